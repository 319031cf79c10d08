/* The driver's route page, offline first.
 *
 * - Registers the service worker (/chauffeur/sw.js) and asks the browser to keep this page
 *   and its assets in the cache, so that the route opens without network.
 * - A check-off ("Livré" / "Problème") is written to an IndexedDB queue with an idempotency
 *   key (crypto.randomUUID()), shown "en attente d'envoi", then sent to the API. The queue is
 *   sent again when the network comes back (the "online" event), when the page loads, after
 *   each check-off and every 30 seconds while something waits. The server records each key
 *   once, so sending twice is harmless.
 * - Without JavaScript the forms post to the server, which calls the same service.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-driver-page]");
  if (!root) return;

  var CACHE = "marche-chauffeur-v1";
  var DB_NAME = "marche-chauffeur";
  var STORE = "checkoffs";
  var RETRY_MS = 30000;
  var sending = false;
  var flushAgain = false;
  var retryTimer = null;

  function label(name) {
    return root.getAttribute("data-label-" + name) || "";
  }

  // --- network state -------------------------------------------------------------------

  function showNetwork() {
    var banner = root.querySelector("[data-offline-banner]");
    if (banner) banner.hidden = navigator.onLine;
  }

  // --- service worker and cache --------------------------------------------------------

  function assetUrls() {
    var urls = [location.pathname];
    document.querySelectorAll("link[rel=stylesheet][href], link[rel=icon][href], script[src]")
      .forEach(function (el) {
        var url = new URL(el.getAttribute("href") || el.getAttribute("src"), location.href);
        if (url.origin === location.origin) urls.push(url.pathname + url.search);
      });
    return urls;
  }

  function keepOffline() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker
      .register(root.getAttribute("data-sw-url"), { scope: root.getAttribute("data-sw-scope") })
      .catch(function () { /* no service worker: the page still works online */ });
    // Once the worker controls the page it keeps the page and assets fresh by itself; the
    // first visit (not controlled yet) puts them in its cache from here.
    if (!("caches" in window) || !navigator.onLine || navigator.serviceWorker.controller) return;
    caches.open(CACHE).then(function (cache) {
      return Promise.all(assetUrls().map(function (url) {
        return fetch(url, { credentials: "same-origin" }).then(function (response) {
          if (response.ok && !response.redirected) return cache.put(url, response);
        }).catch(function () { /* offline meanwhile: kept for the next visit */ });
      }));
    });
  }

  // --- the queue (IndexedDB) -----------------------------------------------------------

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "key" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withStore(mode, action) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = action(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(result && result.result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function queueAll() {
    return withStore("readonly", function (store) { return store.getAll(); }).then(function (items) {
      return (items || []).sort(function (a, b) { return a.created - b.created; });
    });
  }

  function queuePut(item) {
    return withStore("readwrite", function (store) { return store.put(item); });
  }

  function queueDelete(key) {
    return withStore("readwrite", function (store) { return store.delete(key); });
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  // --- the page --------------------------------------------------------------------------

  function stopElement(stopId) {
    return root.querySelector('[data-stop="' + stopId + '"]');
  }

  function showStopError(stopId, message) {
    var el = stopElement(stopId);
    if (!el) return;
    var box = el.querySelector("[data-stop-error]");
    box.textContent = message || "";
    box.hidden = !message;
  }

  function setStatus(stopId, status, note) {
    var el = stopElement(stopId);
    if (!el) return;
    el.setAttribute("data-status", status);
    el.className = el.className.replace(/\bstatus-\w+/, "status-" + status);
    el.querySelector("[data-stop-status]").textContent = label(status) || status;
    if (note !== undefined) {
      var noteEl = el.querySelector("[data-stop-note]");
      noteEl.textContent = note || "";
      noteEl.hidden = !note;
    }
  }

  function showProgress() {
    var stops = root.querySelectorAll("[data-stop]");
    var done = 0;
    stops.forEach(function (el) { if (el.getAttribute("data-status") !== "planned") done += 1; });
    var progress = root.querySelector("[data-progress]");
    if (progress) {
      progress.textContent = progress.textContent.replace(/^\d+\/\d+/, done + "/" + stops.length);
    }
  }

  function showQueue(items) {
    var pending = {};
    items.forEach(function (item) { pending[item.stopId] = item; });
    root.querySelectorAll("[data-stop]").forEach(function (el) {
      var item = pending[el.getAttribute("data-stop")];
      el.querySelector("[data-pending]").hidden = !item;
      el.classList.toggle("is-pending", !!item);
      if (item) setStatus(item.stopId, item.body.status, item.body.note);
    });
    var status = root.querySelector("[data-queue-status]");
    if (status) {
      status.hidden = items.length === 0;
      status.textContent = items.length === 1
        ? label("queue-one")
        : label("queue-many").replace("%(count)s", items.length);
    }
    showProgress();
    if (items.length && !retryTimer) {
      retryTimer = setInterval(flush, RETRY_MS);
    } else if (!items.length && retryTimer) {
      clearInterval(retryTimer);
      retryTimer = null;
    }
  }

  function refreshQueue() {
    return queueAll().then(function (items) { showQueue(items); return items; });
  }

  // --- sending -----------------------------------------------------------------------------

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var input = root.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function send(item) {
    return fetch(item.url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": csrfToken(),
      },
      body: JSON.stringify(item.body),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    });
  }

  function flush() {
    if (!navigator.onLine) return Promise.resolve();
    if (sending) {
      // Queued while a send runs: sent right after it, not at the next retry.
      flushAgain = true;
      return Promise.resolve();
    }
    sending = true;
    flushAgain = false;
    var refused = false;
    return queueAll().then(function (items) {
      var chain = Promise.resolve(true);
      items.forEach(function (item) {
        chain = chain.then(function (goOn) {
          if (!goOn) return false;
          return send(item).then(function (answer) {
            if (answer.status === 200) {
              setStatus(item.stopId, answer.data.status, answer.data.note);
              showStopError(item.stopId, "");
              return queueDelete(item.key).then(function () { return true; });
            }
            if (answer.status === 401 || answer.status === 403 && answer.data.code === "csrf_failed") {
              showStopError(item.stopId, label("login"));
              return false; // kept: sent again once logged in
            }
            if (answer.status >= 500 || answer.data.code === "service_busy") {
              return false; // kept: the server will take it later
            }
            // A refusal (not your round, bad input, too early): it will never pass; say why,
            // drop it, and show the stop as the server has it, not as the phone hoped.
            showStopError(item.stopId, answer.data.message || "");
            refused = true;
            return queueDelete(item.key).then(function () { return true; });
          }, function () {
            return false; // the network failed: kept for the next try
          });
        });
      });
      return chain;
    }).then(refreshQueue).then(function () {
      if (refused) return refreshFromServer();
    }).then(function () {
      sending = false;
      if (flushAgain) return flush();
    }, function () {
      sending = false;
    });
  }

  function refreshFromServer() {
    var url = root.getAttribute("data-state-url");
    if (!url || !navigator.onLine) return Promise.resolve();
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (!state) return;
        state.stops.forEach(function (stop) { setStatus(stop.stop_id, stop.status, stop.note); });
        return refreshQueue();
      })
      .catch(function () { /* offline: the cached page and the queue tell the state */ });
  }

  function readCrates(form) {
    var delivered = {};
    var valid = true;
    form.querySelectorAll("input[data-reference]").forEach(function (input) {
      var value = input.value.trim();
      if (!value) return;
      if (!/^[0-9]{1,3}$/.test(value)) { valid = false; return; }
      delivered[input.getAttribute("data-reference")] = parseInt(value, 10);
    });
    return valid ? delivered : null;
  }

  // A canteen's stop: delivered quantities (typed with a decimal comma, checked by the
  // server), shortfall reasons per line, and who received the goods.
  function readCanteen(form) {
    var fieldset = form.querySelector("[data-canteen-form]");
    if (!fieldset) return null;
    var canteen = { quantities: {}, reasons: {}, received_by: "" };
    fieldset.querySelectorAll("input[data-canteen-qty]").forEach(function (input) {
      canteen.quantities[input.getAttribute("data-canteen-qty")] = input.value.trim();
    });
    fieldset.querySelectorAll("input[data-canteen-reason]").forEach(function (input) {
      var reason = input.value.trim();
      if (reason) canteen.reasons[input.getAttribute("data-canteen-reason")] = reason;
    });
    canteen.received_by = fieldset.querySelector("input[data-canteen-received]").value.trim();
    return canteen;
  }

  // The browser's own message for a pattern mismatch is in its language, not the page's:
  // the crate fields carry the page's French message instead.
  function checkCrates(event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[data-reference]")) return;
    var value = input.value.trim();
    input.setCustomValidity(value && !/^[0-9]{1,3}$/.test(value) ? label("bad-crates") : "");
  }

  function onSubmit(event) {
    var form = event.target.closest(".checkoff-form");
    if (!form) return;
    event.preventDefault();
    var stopId = form.closest("[data-stop]").getAttribute("data-stop");
    var button = event.submitter;
    var status = button && button.value;
    if (!status) return;
    var note = form.querySelector("textarea[name=note]").value.trim();
    if (status === "problem" && !note) {
      showStopError(stopId, label("needs-note"));
      form.querySelector("textarea[name=note]").focus();
      return;
    }
    var delivered = readCrates(form);
    if (delivered === null) {
      showStopError(stopId, label("bad-crates"));
      return;
    }
    var canteen = readCanteen(form);
    if (canteen && status === "delivered" && !canteen.received_by) {
      showStopError(stopId, label("needs-receiver"));
      form.querySelector("input[data-canteen-received]").focus();
      return;
    }
    showStopError(stopId, "");
    var item = {
      key: newKey(),
      stopId: stopId,
      url: form.getAttribute("data-checkoff-url"),
      created: Date.now(),
      body: {
        key: "",
        status: status,
        note: note,
        delivered: delivered,
        recorded_at: new Date().toISOString(),
      },
    };
    if (canteen && status === "delivered") item.body.canteen = canteen;
    item.body.key = item.key;
    queuePut(item).then(refreshQueue).then(function () {
      form.querySelector("textarea[name=note]").value = "";
      return flush();
    });
  }

  // Logging out from a driver's page forgets the cached rounds (they hold households'
  // names); check-offs still waiting stay queued and are sent at the next login.
  function forgetOnLogout(event) {
    var form = event.target;
    if (!form.matches || !form.matches('form[action$="/deconnexion/"]') || !("caches" in window)) {
      return;
    }
    event.preventDefault();
    caches.delete(CACHE).then(function () { form.submit(); }, function () { form.submit(); });
  }

  // --- start --------------------------------------------------------------------------------

  showNetwork();
  window.addEventListener("online", function () { showNetwork(); flush(); });
  window.addEventListener("offline", showNetwork);
  keepOffline();
  document.addEventListener("submit", forgetOnLogout);
  if (root.getAttribute("data-driver-page") === "route") {
    root.addEventListener("submit", onSubmit);
    root.addEventListener("input", checkCrates);
    refreshQueue().then(refreshFromServer).then(flush);
  }
})();
