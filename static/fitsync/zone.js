// Tells fitsync the browser's time zone, so a new user's times start out in their own zone (the server
// uses it only until the profile has one) and the lockout page reads in local time. A cookie, not an
// inline script: the content security policy allows scripts from this site only.
(() => {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone) return;
  document.cookie = `fitsync_zone=${zone}; path=/; max-age=31536000; samesite=lax`;
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-browser-zone]").forEach((element) => { element.textContent = zone; });
    document.querySelectorAll("[data-browser-zone-note]").forEach((element) => { element.hidden = false; });
  });
})();
