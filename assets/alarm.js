/* pmdesk's alarm in the browser (app/web/alarm.py): the sound follows the unacknowledged
   alerts; browser notifications for new ones (and for an alert that escalates); the one-time
   audio unlock; how many alert lines this screen holds. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  pmdesk: {
    alarm: function (state) {
      const audio = document.getElementById("alarm-audio");
      const unlock = document.getElementById("sound-unlock");
      const ring = (state || []).some((a) => a.acked_by === null);
      window.pmdeskNotified = window.pmdeskNotified || {};
      for (const a of state || []) {
        const seen = `${a.id}:${a.severity}`;  // an escalation is news again
        if (a.acked_by === null && !window.pmdeskNotified[seen] &&
            window.Notification && Notification.permission === "granted") {
          new Notification(`${a.severity.toUpperCase()} ${a.account}: ${a.title}`,
                           {body: `${a.message}. ${a.action}`, tag: seen});
        }
        window.pmdeskNotified[seen] = true;
      }
      if (!audio) { return ring ? "ringing" : "silent"; }
      if (ring) {
        const playing = audio.play();
        if (playing && playing.then) {
          playing.then(() => { if (unlock) { unlock.hidden = true; } })
                 .catch(() => { if (unlock) { unlock.hidden = false; } });
        }
        return "ringing";
      }
      audio.pause();
      audio.currentTime = 0;
      return "silent";
    },
    fit: function (_state, current) {
      /* Lines the alert strip may use: 3 on a screen under 900 px tall, else 4 (the kiosk's
         larger type is sized for it), so the uniMMR below always stays in view. */
      const lines = window.innerHeight < 900 ? 3 : 4;
      return lines === current ? window.dash_clientside.no_update : lines;
    },
    unlock: function () {
      const audio = document.getElementById("alarm-audio");
      const unlock = document.getElementById("sound-unlock");
      if (audio) {
        const ringing = audio.dataset.state === "ringing";
        audio.muted = !ringing;
        audio.play().then(() => {
          if (!ringing) { audio.pause(); }
          audio.muted = false;
          if (unlock) { unlock.hidden = true; }
        }).catch(() => { audio.muted = false; });
      }
      return window.dash_clientside.no_update;
    },
    notifications: function () {
      if (window.Notification && Notification.permission === "default") {
        Notification.requestPermission();
      }
      return window.dash_clientside.no_update;
    },
  },
});

/* The "a" key (app/web/app.py fires ACK_EVENT): acknowledge every open alert on this screen,
   exactly as the "Acknowledge all" button does (stored with who and when). */
document.addEventListener("pmdesk:acknowledge", function () {
  const all = document.getElementById("alert-ack-all");
  if (all && !all.hidden) { all.click(); }
});
