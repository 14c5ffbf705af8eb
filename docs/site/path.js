// Scrolls the reading path (the column on the left of every page of the annotated edition) so
// that the current page's entry stands in its middle: on a narrow window or a long path it
// would otherwise be out of sight. Only the column scrolls, never the page. The template is
// page.html; math.js is the page's other script.
"use strict";

const path = document.querySelector("nav.path");
const current = path && path.querySelector(".current");
if (current && path.scrollHeight > path.clientHeight) {
  const top = current.getBoundingClientRect().top - path.getBoundingClientRect().top;
  path.scrollTop += top - path.clientHeight / 3;
}
