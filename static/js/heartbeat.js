// Handle time: while the ticket page is visible and focused, tell the server every 30 seconds.
// Configured by data- attributes on its own <script> tag: data-url, data-ticket, data-interval (seconds).
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script) return;
  var url = script.dataset.url;
  var ticket = script.dataset.ticket;
  var interval = (parseInt(script.dataset.interval, 10) || 30) * 1000;
  if (!url || !ticket) return;

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function active() {
    return document.visibilityState === "visible" && document.hasFocus();
  }

  function beat() {
    if (!active()) return;
    var body = new URLSearchParams({ ticket: ticket });
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
      keepalive: true,
    }).catch(function () {});
  }

  var timer = null;
  function start() {
    if (timer === null) {
      beat();
      timer = window.setInterval(beat, interval);
    }
  }
  function stop() {
    if (timer !== null) {
      window.clearInterval(timer);
      timer = null;
    }
  }
  function update() {
    if (active()) start();
    else stop();
  }

  document.addEventListener("visibilitychange", update);
  window.addEventListener("focus", update);
  window.addEventListener("blur", update);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", update);
  else update();
})();
