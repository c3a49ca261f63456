// Assist panel: the "Put it in my reply" button copies the draft into the reply composer, where the associate
// edits and sends it. Nothing is sent from here.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-assist-use]");
  if (!button) return;
  const draft = button.closest(".assist-draft").querySelector("[data-assist-draft]");
  const composer = document.querySelector("textarea[data-composer]");
  if (!draft || !composer) return;
  composer.value = draft.value;
  composer.dispatchEvent(new Event("input", { bubbles: true }));
  composer.focus();
});
