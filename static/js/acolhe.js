// Small behaviours htmx cannot express. No inline script anywhere: the CSP forbids it.
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target.matches("select[data-autosubmit]")) {
    target.form.requestSubmit();
  }
});
