// Pages authenticate with the session cookie; every same-origin request that changes something carries the
// session's CSRF token (from <meta name="csrf-token">) in X-CSRF-Token, which the server checks.
(function () {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const token = meta ? meta.content : "";
  const original = window.fetch.bind(window);
  window.fetch = function (input, init) {
    init = init || {};
    const method = (init.method || (input instanceof Request ? input.method : "GET")).toUpperCase();
    const url = new URL(input instanceof Request ? input.url : String(input), window.location.href);
    if (token && url.origin === window.location.origin && !["GET", "HEAD", "OPTIONS"].includes(method)) {
      const headers = new Headers(init.headers || (input instanceof Request ? input.headers : undefined));
      headers.set("X-CSRF-Token", token);
      init = Object.assign({}, init, { headers });
    }
    return original(input, init);
  };
  window.licbenchCsrf = token;
})();
