/* The drivers' service worker, served as /chauffeur/sw.js: its scope is /chauffeur/.
 *
 * - Pages under /chauffeur/ (the rounds and a round's page): cache first, then the network
 *   refreshes the cache in the background ("stale while revalidate"), so a round opens at
 *   once and without network; the page itself asks the API for fresh stop states.
 * - Static assets (/static/): cache first, fetched and kept on a miss.
 * - Everything else (the API, PDF and GPX downloads, form posts) goes to the network as is.
 */
"use strict";

var CACHE = "marche-chauffeur-v1";

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("marche-chauffeur-") === 0 && name !== CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function cacheable(response) {
  return response && response.ok && !response.redirected && response.type === "basic";
}

function fromNetwork(request, cacheKey) {
  return fetch(request).then(function (response) {
    if (cacheable(response)) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(cacheKey, copy); });
    }
    return response;
  });
}

function isPage(url) {
  return url.pathname.indexOf("/chauffeur/") === 0
    && url.pathname !== "/chauffeur/sw.js"
    && !/\.(pdf|gpx)$/.test(url.pathname)
    && url.pathname.indexOf("/chauffeur/etapes/") !== 0;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  if (isPage(url)) {
    var key = url.pathname + url.search;
    event.respondWith(
      caches.match(key).then(function (cached) {
        var network = fromNetwork(request, key);
        if (cached) {
          event.waitUntil(network.catch(function () { /* offline: the cached page stands */ }));
          return cached;
        }
        return network;
      })
    );
    return;
  }

  if (url.pathname.indexOf("/static/") === 0) {
    var assetKey = url.pathname + url.search;
    event.respondWith(
      caches.match(assetKey).then(function (cached) {
        return cached || fromNetwork(request, assetKey);
      })
    );
  }
});
