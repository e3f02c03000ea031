// The entry list filters: folded away on a phone (the line under them says what is active), open on a desk.
(function () {
  "use strict";
  var filters = document.querySelector("[data-list-filters]");
  if (!filters) { return; }
  if (window.matchMedia("(min-width: 48rem)").matches) { filters.open = true; }
}());
