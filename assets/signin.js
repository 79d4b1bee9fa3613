/* Sign-in (app/web/signin.py). When the session ends — signed out on another tab, idle or past
   its length, the user removed, the screen's link revoked — the server answers this page's
   requests 401: reload, and the server sends the browser to the sign-in page, rather than leave
   the last figures on screen as if they were live. Not while this page's own Sign out is under
   way: its form already goes to the sign-in page ("signed out"), and a reload racing it would
   land on the plain sign-in page instead. */
(function () {
  const fetch0 = window.fetch;
  let leaving = false;
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form && form.getAttribute && form.getAttribute("action") === "/logout") {
      leaving = true;
    }
  }, true);
  window.fetch = function () {
    return fetch0.apply(this, arguments).then(function (response) {
      if (response.status === 401 && !leaving) {
        leaving = true;
        window.location.reload();
      }
      return response;
    });
  };
})();
