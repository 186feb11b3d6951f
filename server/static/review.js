// The scoring form's running weighted total, updated as scores are chosen. Without JavaScript the
// total is computed when the draft is saved; this only saves the round trip.
(function () {
  "use strict";
  var form = document.getElementById("review-form");
  var output = document.getElementById("running-total");
  if (!form || !output) { return; }

  function update() {
    var points = 0, weighed = 0, total = 0;
    var criteria = form.querySelectorAll("fieldset.criterion");
    criteria.forEach(function (fieldset) {
      var weight = parseInt(fieldset.getAttribute("data-weight"), 10) || 0;
      var checked = fieldset.querySelector("input[type=radio]:checked");
      total += weight;
      if (checked) {
        points += weight * (parseInt(checked.value, 10) - 1) / 4;
        weighed += weight;
      }
    });
    var complete = criteria.length > 0 && weighed === total;
    var text = output.getAttribute(complete ? "data-complete" : "data-partial") || "";
    output.textContent = text.replace("{points}", points.toFixed(1)).replace("{weight}", String(weighed));
  }

  form.addEventListener("change", function (event) {
    if (event.target && event.target.type === "radio") { update(); }
  });
}());
