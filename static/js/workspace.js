// Keyboard shortcuts for the associate workspace, and the "typing" flag the collision poll sends.
// htmx cannot express these; there is no inline script anywhere (the CSP forbids it).
(() => {
  const typingIdleMs = 8000;
  let typingTimer = null;

  const isEditable = (el) =>
    el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));

  const rows = () => Array.from(document.querySelectorAll("[data-row]"));
  let current = -1;

  const select = (index) => {
    const all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((row, i) => row.classList.toggle("selected", i === current));
    all[current].scrollIntoView({ block: "nearest" });
    const link = all[current].querySelector("[data-row-link]");
    if (link) link.focus({ preventScroll: true });
  };

  const composer = () => document.querySelector("[data-composer]");

  const startWriting = (mode) => {
    const box = composer();
    if (!box) return false;
    const radio = document.querySelector(`#reply-form input[name="mode"][value="${mode}"]`);
    if (radio) radio.checked = true;
    // In a long thread the reply box is far below: bring it to the middle of the window, then type.
    box.scrollIntoView({ block: "center" });
    box.focus({ preventScroll: true });
    return true;
  };

  // "Jump to reply" stays in a corner of the window while the reply box is out of sight, so a long
  // thread never hides it; it goes away when the box is on screen.
  const jump = document.querySelector("[data-jump-to-reply]");
  const replyBox = document.getElementById("composer");
  if (jump && replyBox && "IntersectionObserver" in window) {
    new IntersectionObserver((entries) => {
      jump.hidden = entries[entries.length - 1].isIntersecting;
    }).observe(replyBox);
    jump.addEventListener("click", (event) => {
      event.preventDefault();
      startWriting("reply");
    });
  }

  // `s` with a reply written: a dialog of our own (not the browser's confirm) says who gets the mail and
  // shows its start; only its "Send and solve" button sends.
  const askSendAndSolve = () => {
    const dialog = document.getElementById("send-solve-dialog");
    const button = document.querySelector("[data-send-solve]");
    const box = composer();
    if (!dialog || !button || !box) return false;
    const text = box.value.trim();
    dialog.querySelector("[data-send-solve-preview]").textContent =
      text.length > 280 ? `${text.slice(0, 280)}…` : text;
    dialog.returnValue = "";
    dialog.showModal();
    return true;
  };

  document.addEventListener("close", (event) => {
    if (event.target.id !== "send-solve-dialog") return;
    if (event.target.returnValue === "send") {
      const button = document.querySelector("[data-send-solve]");
      button.form.requestSubmit(button);
    } else {
      const box = composer();
      if (box) box.focus();
    }
  }, true);

  const setTyping = (typing) => {
    const flag = document.getElementById("typing-flag");
    const presence = document.getElementById("presence");
    if (!flag || !presence) return;
    const value = typing ? "1" : "0";
    if (flag.value !== value) {
      flag.value = value;
      if (window.htmx) window.htmx.trigger(presence, "acolhe:typing");
    }
  };

  // The attachments picker (a translated label around the browser's file input) names the files chosen.
  document.addEventListener("change", (event) => {
    if (!event.target.matches("[data-attachments]")) return;
    const shown = event.target.closest(".attachments-input").querySelector("[data-attachments-chosen]");
    const names = Array.from(event.target.files, (file) => file.name);
    shown.textContent = names.length ? names.join(", ") : shown.dataset.none;
  });

  document.addEventListener("input", (event) => {
    if (!event.target.matches("[data-composer]")) return;
    setTyping(event.target.value.trim().length > 0);
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => setTyping(false), typingIdleMs);
  });

  // Ctrl+Enter (Cmd+Enter on a Mac) in the composer sends, as the plain Send button does.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || !event.target.matches("[data-composer]")) {
      return;
    }
    const send = document.querySelector("#reply-form [data-testid=send]");
    if (!send || !event.target.value.trim()) return;
    event.preventDefault();
    send.form.requestSubmit(send);
  });

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const help = document.getElementById("shortcuts-help");
    if (isEditable(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if ((help && help.open) || document.querySelector("dialog[open]")) return;
    switch (event.key) {
      case "j":
        select(current + 1);
        break;
      case "k":
        select(current - 1);
        break;
      case "Enter": {
        const row = rows()[current];
        if (!row || document.activeElement !== row.querySelector("[data-row-link]")) {
          if (row) window.location.href = row.dataset.href;
          else return;
        } else {
          return; // the focused link opens itself
        }
        break;
      }
      case "r":
        if (!startWriting("reply")) return;
        break;
      case "n":
        if (!startWriting("note")) return;
        break;
      case "s": {
        const box = composer();
        if (box && box.value.trim()) {
          // A key press must not mail the requester by accident: ask first.
          if (!askSendAndSolve()) return;
        } else {
          const form = document.getElementById("solve-form");
          if (!form) return;
          form.requestSubmit();
        }
        break;
      }
      case "m": {
        const macros = document.querySelector("[data-macro-search]");
        if (!macros) return;
        macros.focus();
        break;
      }
      case "a": {
        const button = document.querySelector("[data-next-ticket]");
        if (!button) return;
        button.click();
        break;
      }
      case "/": {
        const search = document.querySelector("[data-search]");
        if (!search) return;
        search.focus();
        search.select();
        break;
      }
      case "?":
        if (!help) return;
        help.showModal();
        break;
      default:
        return;
    }
    event.preventDefault();
  });
})();
