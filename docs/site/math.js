// Typesets the math of a page of the annotated edition with KaTeX (Debian's libjs-katex, copied
// into the site by scripts/docs.py). markdown-it's dollarmath plugin left every formula as its
// TeX source in an element of class "math": a span inline, or with the class "display" for a
// displayed formula. A formula KaTeX cannot parse stays visible as its source, marked
// katex-error, and is reported on the console, where tests/site/check_site.py finds it.
"use strict";

for (const element of document.querySelectorAll(".math")) {
  const tex = element.textContent;
  try {
    katex.render(tex, element, {
      displayMode: element.classList.contains("display"),
      throwOnError: true,
    });
  } catch (error) {
    element.classList.add("katex-error");
    element.title = error.message;
    console.error(`KaTeX could not typeset ${JSON.stringify(tex)}: ${error.message}`);
  }
}
