// Live character counts under the headline, standfirst and search fields of the page editor
// (issue 8: "headline and standfirst with character counters"). The hard limit is the
// field's maxlength; a soft limit warns where readers' tools cut the text off.
(function () {
  "use strict";

  // Soft limits: Google shows about 60-70 characters of a title and about 160 of a
  // description; a standfirst longer than 200 characters stops reading as a summary.
  var SOFT_LIMITS = {
    title: [70, "search results cut headlines off after about 70 characters"],
    standfirst: [200, "a standfirst over 200 characters reads as a paragraph"],
    seo_title: [60, "search results cut titles off after about 60 characters"],
    search_description: [160, "search results cut descriptions off after about 160 characters"],
  };

  function attach(field) {
    var name = field.name;
    var max = field.maxLength > 0 ? field.maxLength : null;
    var soft = SOFT_LIMITS[name];
    var counter = document.createElement("p");
    counter.className = "newsroom-count";
    counter.id = field.id ? field.id + "-count" : "newsroom-count-" + name;
    var anchor = field.closest(".w-field__input") || field;
    anchor.insertAdjacentElement("afterend", counter);
    var described = field.getAttribute("aria-describedby");
    field.setAttribute("aria-describedby", (described ? described + " " : "") + counter.id);

    function update() {
      var length = Array.from(field.value).length; // count characters, not UTF-16 units
      var text = max ? length + " / " + max + " characters" : length + " characters";
      var over = soft && length > soft[0];
      if (over) text += " \u2014 " + soft[1];
      counter.textContent = text;
      counter.classList.toggle("newsroom-count--over", Boolean(over));
    }
    field.addEventListener("input", update);
    update();
  }

  function init() {
    Object.keys(SOFT_LIMITS).forEach(function (name) {
      document
        .querySelectorAll("form[data-edit-form] [name='" + name + "']")
        .forEach(function (field) {
          if (!field.dataset.newsroomCount) {
            field.dataset.newsroomCount = "1";
            attach(field);
          }
        });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
