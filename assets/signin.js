/* Sign-in (app/web/signin.py). When the session ends — signed out on another tab, idle or past
   its length, the user removed, the screen's link revoked — the server answers this page's
   requests 401: reload, and the server sends the browser to the sign-in page, rather than leave
   the last figures on screen as if they were live. */
(function () {
  const fetch0 = window.fetch;
  let leaving = false;
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
