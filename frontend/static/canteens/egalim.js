/* A canteen's EGalim dashboard: draws the bar chart per product family with the vendored
   Chart.js (static/vendor/chartjs). Everything it shows is also in the page's tables and
   gauges, so the page reads the same without this script. Texts come translated from the
   server; amounts come as exact decimal strings and become numbers for the drawing only. */
(function () {
  "use strict";

  // Same colours as the swatches of canteens/egalim.css.
  var COLOURS = {
    bio: "#2f6b3a",
    siqo: "#0072b2",
    autres: "#e69f00",
    externalites: "#cc79a7",
    aucun: "#b9c4bc"
  };

  function readJson(id) {
    var element = document.getElementById(id);
    if (!element) return null;
    try {
      return JSON.parse(element.textContent);
    } catch (error) {
      return null;
    }
  }

  function draw() {
    var box = document.querySelector("[data-chart-box]");
    var canvas = document.getElementById("egalim-family-chart");
    var data = readJson("egalim-chart-data");
    if (!box || !canvas || !data || !data.families || !data.families.length) return;
    if (typeof window.Chart === "undefined") return;
    var language = document.documentElement.lang || "fr";
    var euros = new Intl.NumberFormat(language, { style: "currency", currency: "EUR" });
    var compact = new Intl.NumberFormat(language, { maximumFractionDigits: 0 });
    var totals = data.families.map(function (_, index) {
      return data.tiers.reduce(function (sum, tier) {
        return sum + Number(tier.values[index]);
      }, 0);
    });

    box.hidden = false;
    box.parentElement.classList.add("has-chart");
    var phone = window.matchMedia("(max-width: 640px)").matches;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.families,
        datasets: data.tiers.map(function (tier) {
          return {
            label: tier.name,
            data: tier.values.map(Number),
            backgroundColor: COLOURS[tier.key] || "#888888",
            borderWidth: 0
          };
        })
      },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: {
            stacked: true,
            ticks: {
              callback: function (value) {
                return compact.format(value) + " €";
              }
            }
          },
          y: { stacked: true, ticks: { autoSkip: false, font: { size: phone ? 11 : 12 } } }
        },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12, font: { size: phone ? 11 : 12 } } },
          tooltip: {
            callbacks: {
              label: function (context) {
                var total = totals[context.dataIndex];
                var share = total > 0 ? (context.parsed.x * 100) / total : 0;
                return context.dataset.label + " : " + euros.format(context.parsed.x) +
                  " (" + share.toLocaleString(language, { maximumFractionDigits: 1 }) + " %)";
              }
            }
          }
        }
      }
    });
    box.setAttribute("data-drawn", "1");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
