// Small behaviours htmx cannot express. No inline script anywhere: the CSP forbids it.
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target.matches("select[data-autosubmit]")) {
    target.form.requestSubmit();
  }
});

// The top bar's menu button (shown below 1180 px): opens and closes the navigation.
document.addEventListener("click", (event) => {
  const toggle = event.target.closest("[data-menu-toggle]");
  if (!toggle) return;
  const open = toggle.getAttribute("aria-expanded") !== "true";
  toggle.setAttribute("aria-expanded", String(open));
  toggle.closest("[data-topbar]").classList.toggle("menu-open", open);
});

// The current page's navigation link is marked for screen readers and styled.
document.addEventListener("DOMContentLoaded", () => {
  const here = window.location.pathname;
  let best = null;
  for (const link of document.querySelectorAll(".mainnav a[href]")) {
    const path = new URL(link.href).pathname;
    if ((here === path || (path !== "/" && here.startsWith(path))) && (!best || path.length > best.path.length)) {
      best = { link, path };
    }
  }
  if (best) best.link.setAttribute("aria-current", "page");
});
