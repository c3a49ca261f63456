// Protected viewing: blurred images and videos on a flagged ticket are revealed one at a time, and each
// reveal is logged on the server before the media is shown. Also fills in the crisis macro search.
(function () {
  "use strict";

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function attachmentId(element) {
    if (element.dataset.attachment) return element.dataset.attachment;
    const match = /\/attachments\/(\d+)\//.exec(element.getAttribute("src") || element.getAttribute("href") || "");
    return match ? match[1] : "";
  }

  function logReveal(layout, element) {
    const body = new URLSearchParams();
    body.set("attachment", attachmentId(element));
    body.set("src", (element.getAttribute("src") || element.getAttribute("href") || "").slice(0, 300));
    return fetch(layout.dataset.revealUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString(),
      credentials: "same-origin",
    });
  }

  document.addEventListener("click", (event) => {
    const layout = event.target.closest(".wb-protected");
    if (!layout) return;
    const media = event.target.closest(".thread img, .thread video");
    if (media && !media.classList.contains("wb-revealed")) {
      event.preventDefault();
      event.stopPropagation();
      logReveal(layout, media).then((response) => {
        if (response.ok) media.classList.add("wb-revealed");
      });
      return;
    }
    const link = event.target.closest("a.wb-media-link");
    if (link) {
      event.preventDefault();
      logReveal(layout, link).then((response) => {
        if (response.ok) window.location.assign(link.href);
      });
    }
  }, true);

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-wb-macro]");
    if (!button) return;
    const search = document.querySelector("[data-macro-search]");
    if (!search) return;
    search.value = button.dataset.wbMacro;
    search.focus();
    search.dispatchEvent(new Event("input", { bubbles: true }));
    search.scrollIntoView({ block: "center" });
  });
})();
