/* The coordinators' planning page: draws the plan on a Leaflet map (markers, route lines,
   scale; tiles only when the server configured a tile URL) and polls the plan's state —
   every second while it is being computed (reloading when done), every 15 seconds while
   published rounds are driven. Everything shown here is also in the page's HTML, so the page
   works without this script. Texts come translated from the server. */
(function () {
  "use strict";

  // Same order as .route-cN in css/planning.css.
  var PALETTE = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#b58900", "#56b4e9", "#6a3d9a", "#8c564b"];
  var DEPOT = "#1d2421";
  var UNSERVED = "#a32020";

  function readJson(id) {
    var element = document.getElementById(id);
    if (!element) return null;
    try {
      return JSON.parse(element.textContent);
    } catch (error) {
      return null;
    }
  }

  function drawMap() {
    var holder = document.getElementById("plan-map");
    var data = readJson("plan-map-data");
    var config = readJson("plan-map-config") || {};
    if (!holder || !data || typeof window.L === "undefined") return;
    var L = window.L;
    var map = L.map(holder, { scrollWheelZoom: false, zoomSnap: 0.25 });
    if (config.tile_url) {
      L.tileLayer(config.tile_url, { attribution: config.attribution || "", maxZoom: 19 }).addTo(map);
    }
    L.control.scale({ imperial: false, metric: true }).addTo(map);

    var bounds = [];
    (data.routes || []).forEach(function (route) {
      var colour = PALETTE[route.colour % PALETTE.length];
      if (route.points.length > 1) {
        L.polyline(route.points, {
          color: colour,
          weight: 4,
          opacity: 0.85,
          className: "route-line route-line-" + route.id,
        })
          .bindTooltip(route.label, { sticky: true })
          .addTo(map);
      }
      route.points.forEach(function (point) {
        bounds.push(point);
      });
    });

    (data.places || []).forEach(function (place) {
      var depot = place.kind === "depot";
      var colour = place.unserved ? "#ffffff" : depot ? DEPOT : PALETTE[(place.colour || 0) % PALETTE.length];
      var marker = L.circleMarker([place.lat, place.lon], {
        radius: depot ? 10 : 8,
        color: place.unserved ? UNSERVED : "#ffffff",
        weight: place.unserved ? 3 : 2,
        dashArray: place.unserved ? "4 3" : null,
        fillColor: colour,
        fillOpacity: 1,
        className: "place-marker place-" + place.kind + (place.unserved ? " place-unserved" : ""),
      });
      var labels = place.labels && place.labels.length ? place.labels : [place.name];
      marker.bindTooltip(escapeLines(labels), {
        direction: "top",
        offset: [0, -8],
      });
      marker.addTo(map);
      bounds.push([place.lat, place.lon]);
    });

    if (bounds.length) {
      map.fitBounds(bounds, { padding: [28, 28], maxZoom: 15 });
    } else {
      map.setView([46.6, 2.4], 5);
    }
    holder.setAttribute("data-drawn", "1");
  }

  // Tooltips take HTML: names typed by people are escaped first.
  function escapeText(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }

  function escapeLines(lines) {
    return lines.map(escapeText).join("<br>");
  }

  function setText(root, selector, text) {
    var element = root.querySelector(selector);
    if (element && text !== undefined && text !== null && text !== "") element.textContent = text;
  }

  function poll() {
    var root = document.querySelector("[data-planning]");
    if (!root || !window.fetch) return;
    var url = root.getAttribute("data-state-url");
    var version = root.getAttribute("data-version");
    var solving = root.getAttribute("data-solving") === "1";
    var published = root.getAttribute("data-published") === "1";
    if (!url || (!solving && !published)) return;

    function schedule() {
      window.setTimeout(tick, solving ? 1000 : 15000);
    }

    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (state) {
          if (!state) return schedule();
          if (solving && !state.solving) {
            // The computation ended (done or failed): show the stored result.
            window.location.reload();
            return;
          }
          var box = document.querySelector("[data-solve-box]");
          if (box && state.progress) {
            setText(box, "[data-field=state_label]", state.state_label);
            setText(box, "[data-field=best_cost]", state.progress.best_cost);
            setText(box, "[data-field=stops]", state.progress.stops);
            setText(box, "[data-field=time_left]", state.progress.time_left);
          }
          (state.routes || []).forEach(function (route) {
            var badge = document.querySelector('[data-route-progress="' + route.id + '"]');
            if (badge) {
              badge.textContent = route.label;
              badge.classList.toggle("done", route.total > 0 && route.done === route.total);
            }
          });
          (state.stops || []).forEach(function (stop) {
            var badge = document.querySelector('[data-stop-status="' + stop.id + '"]');
            if (badge) {
              badge.textContent = stop.label;
              badge.classList.remove("planned", "delivered", "problem");
              badge.classList.add(stop.status);
            }
          });
          if (!solving && version && state.version && String(state.version) !== version) {
            var stale = document.querySelector("[data-stale]");
            if (stale) stale.hidden = false;
          }
          schedule();
        })
        .catch(schedule);
    }

    schedule();
  }

  // Computing may run in the request itself (no worker configured) for up to the time limit:
  // say so at once and keep the button from being pressed twice.
  function watchCompute() {
    var form = document.querySelector('form[data-form="compute"]');
    if (!form) return;
    var button = form.querySelector('button[type="submit"]');
    var wait = form.querySelector("[data-compute-wait]");
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-sent") === "1") {
        event.preventDefault();
        return;
      }
      form.setAttribute("data-sent", "1");
      if (wait) wait.hidden = false;
      // Disabled after the submission has started, so the post still goes.
      window.setTimeout(function () {
        if (button) button.disabled = true;
      }, 0);
    });
    // Back to this page from the browser's cache: ready for another try.
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted) return;
      form.removeAttribute("data-sent");
      if (wait) wait.hidden = true;
      if (button) button.disabled = false;
    });
  }

  function start() {
    drawMap();
    watchCompute();
    poll();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
