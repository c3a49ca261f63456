// The ticket page's SOP panel: warn before solving while a required checklist step is unticked.
(() => {
  document.addEventListener(
    "submit",
    (event) => {
      const panel = document.getElementById("sop-panel");
      const unticked = panel ? Number(panel.dataset.untickedRequired || 0) : 0;
      if (!unticked) {
        return;
      }
      const fields = new FormData(event.target);
      const submitter = event.submitter;
      const status =
        submitter && ["status", "set_status"].includes(submitter.name)
          ? submitter.value
          : fields.get("status") || fields.get("set_status");
      if (status === "solved" && !window.confirm(panel.dataset.solveWarning)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true,
  );
})();
