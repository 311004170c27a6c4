// The Garmin 429 cooldown: tick the "try again in" text down each second, reload when it is over.
// Without JavaScript the server-rendered time stays correct for the moment the page was loaded.
document.querySelectorAll("[data-countdown-until]").forEach((box) => {
  const until = Date.parse(box.dataset.countdownUntil);
  const out = box.querySelector("[data-countdown]");
  const tick = () => {
    const left = Math.max(0, Math.round((until - Date.now()) / 1000));
    const h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    out.textContent = (h ? `${h} h ` : "") + `${String(m).padStart(2, "0")} min ${String(s).padStart(2, "0")} s`;
    if (left === 0) window.location.reload();
    else setTimeout(tick, 1000);
  };
  tick();
});
