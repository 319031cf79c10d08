/* The public site's maps: places as Leaflet markers with their names drawn beside them and a
   metric scale; map tiles only when the server configured a tile URL. Every place is also
   listed in the page's text, so the page says everything without this script. */
(function () {
  "use strict";

  var COLOURS = { relay: "#2f6b3a", producer: "#7a5230" };

  function draw(holder) {
    var source = document.getElementById(holder.getAttribute("data-site-map"));
    if (!source || typeof window.L === "undefined") return;
    var data;
    try {
      data = JSON.parse(source.textContent);
    } catch (error) {
      return;
    }
    var L = window.L;
    var map = L.map(holder, { scrollWheelZoom: false, zoomSnap: 0.25 });
    var tileUrl = holder.getAttribute("data-tile-url");
    if (tileUrl) {
      L.tileLayer(tileUrl, { attribution: holder.getAttribute("data-attribution") || "", maxZoom: 19 }).addTo(map);
    } else {
      holder.classList.add("no-tiles");
    }
    L.control.scale({ imperial: false, metric: true }).addTo(map);
    var bounds = [];
    (data.places || []).forEach(function (place) {
      var marker = L.circleMarker([place.lat, place.lon], {
        radius: 8,
        color: "#ffffff",
        weight: 2,
        fillColor: COLOURS[place.kind] || "#1d2421",
        fillOpacity: 1,
        className: "site-marker site-marker-" + place.kind,
      });
      marker.bindTooltip(escapeText(place.name), {
        permanent: true,
        direction: "right",
        offset: [8, 0],
        className: "site-marker-label",
      });
      if (place.url) {
        marker.on("click", function () {
          window.location.href = place.url;
        });
      }
      marker.addTo(map);
      bounds.push([place.lat, place.lon]);
    });
    if (bounds.length > 1) {
      // Names are drawn to the right of their marker: leave them room inside the map.
      map.fitBounds(bounds, { paddingTopLeft: [24, 24], paddingBottomRight: [190, 24], maxZoom: 15 });
    } else if (bounds.length === 1) {
      map.setView(bounds[0], 14);
    } else {
      map.setView([46.6, 2.4], 5);
    }
    holder.setAttribute("data-drawn", "1");
  }

  function escapeText(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-site-map]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
