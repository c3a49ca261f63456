// The composer's macro picker (search, arrows, Enter to insert). htmx fetches the matching macros; this file
// only does what htmx cannot.
(() => {
  const pickerOf = (element) => element.closest("[data-macro-picker]");
  const optionsOf = (picker) => Array.from(picker.querySelectorAll('[role="option"][data-macro-id]'));
  const searchOf = (picker) => picker.querySelector("[data-macro-search]");
  const activeIndex = (picker) => optionsOf(picker).findIndex((option) => option.getAttribute("aria-selected") === "true");

  function setActive(picker, index) {
    const options = optionsOf(picker);
    const search = searchOf(picker);
    options.forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
    if (options[index]) {
      search.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    } else {
      search.removeAttribute("aria-activedescendant");
    }
  }

  function close(picker) {
    const results = picker.querySelector("[data-macro-results]");
    results.replaceChildren();
    searchOf(picker).setAttribute("aria-expanded", "false");
    searchOf(picker).removeAttribute("aria-activedescendant");
  }

  function composerOf(picker) {
    const form = picker.closest("form");
    return (form && form.querySelector('textarea[name="body"]')) || document.querySelector('textarea[name="body"]');
  }

  function insert(picker, option) {
    const textarea = composerOf(picker);
    const body = option.dataset.macroBody || "";
    if (textarea) {
      const start = textarea.selectionStart ?? textarea.value.length;
      const end = textarea.selectionEnd ?? textarea.value.length;
      textarea.value = textarea.value.slice(0, start) + body + textarea.value.slice(end);
      const caret = start + body.length;
      textarea.setSelectionRange(caret, caret);
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }
    picker.querySelector("[data-macro-id-input]").value = option.dataset.macroId;
    const warning = picker.querySelector("[data-macro-warning]");
    const notes = [];
    if (option.dataset.macroFallback) {
      notes.push(picker.dataset.fallbackLabel);
    }
    if (option.dataset.macroMissing) {
      notes.push(`${picker.dataset.missingLabel} ${option.dataset.macroMissing}`);
    }
    warning.textContent = notes.join(" ");
    warning.hidden = notes.length === 0;
    searchOf(picker).value = "";
    close(picker);
    if (textarea) {
      textarea.focus();
    }
  }

  document.addEventListener("keydown", (event) => {
    const search = event.target;
    if (!(search instanceof HTMLElement) || !search.matches("[data-macro-search]")) {
      return;
    }
    const picker = pickerOf(search);
    const options = optionsOf(picker);
    const index = activeIndex(picker);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (options.length) {
        const step = event.key === "ArrowDown" ? 1 : -1;
        setActive(picker, (index + step + options.length) % options.length);
      }
    } else if (event.key === "Enter") {
      event.preventDefault(); // never submit the reply from the search box
      const chosen = options[index] || (options.length === 1 ? options[0] : null);
      if (chosen) {
        insert(picker, chosen);
      }
    } else if (event.key === "Escape") {
      close(picker);
    }
  });

  document.addEventListener("click", (event) => {
    const option = event.target instanceof Element && event.target.closest('[role="option"][data-macro-id]');
    if (option && pickerOf(option)) {
      insert(pickerOf(option), option);
    }
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    const results = event.target;
    if (!(results instanceof Element) || !results.matches("[data-macro-results]")) {
      return;
    }
    const picker = pickerOf(results);
    searchOf(picker).setAttribute("aria-expanded", String(optionsOf(picker).length > 0));
    setActive(picker, optionsOf(picker).length ? 0 : -1);
  });
})();
