/* pmdesk's alarm in the browser (app/web/alarm.py): the sound follows the unacknowledged
   alerts; browser notifications for new ones; the one-time audio unlock. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  pmdesk: {
    alarm: function (state) {
      const audio = document.getElementById("alarm-audio");
      const unlock = document.getElementById("sound-unlock");
      const ring = (state || []).some((a) => a.acked_by === null);
      window.pmdeskNotified = window.pmdeskNotified || {};
      for (const a of state || []) {
        if (a.acked_by === null && !window.pmdeskNotified[a.id] &&
            window.Notification && Notification.permission === "granted") {
          new Notification(`${a.severity.toUpperCase()} ${a.account}: ${a.title}`,
                           {body: `${a.message}. ${a.action}`, tag: String(a.id)});
        }
        window.pmdeskNotified[a.id] = true;
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
