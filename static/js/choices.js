// The exercise page's video and clip choices, fetched once, when a form
// first opens, instead of repeating hundreds of options in the page and in
// every reply form. What a list already holds (a video just uploaded, a
// clip just cut) and what is chosen stay. Without this script, the links
// beside the lists show the page again with the choices in it.

/** Fills every `select[data-choices]` inside `section` from its `data-choices-url`. */
export function mountChoices(section) {
  const url = section && section.getAttribute("data-choices-url");
  if (!url) { return; }
  const links = section.querySelectorAll("[data-choices-link]");
  links.forEach((link) => { link.hidden = true; });
  let loading = null;

  function fill(choices) {
    section.querySelectorAll("select[data-choices]").forEach((select) => {
      const list = choices[select.getAttribute("data-choices")] || [];
      const have = new Set(Array.from(select.options, (o) => o.value));
      list.forEach((choice) => {
        if (!have.has(choice.id)) { select.add(new Option(choice.label, choice.id)); }
      });
      const field = select.closest("[data-choices-field]");
      if (field && select.options.length > 1) { field.hidden = false; }
    });
    section.setAttribute("data-choices-ready", "");
  }

  function load() {
    if (loading) { return; }
    section.setAttribute("aria-busy", "true");
    loading = fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then((response) => {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(fill)
      .catch(() => {
        // Try again at the next opening; meanwhile the links still work.
        loading = null;
        links.forEach((link) => { link.hidden = false; });
      })
      .finally(() => section.removeAttribute("aria-busy"));
  }

  section.querySelectorAll("details.compose, details.reply").forEach((details) => {
    if (details.open) { load(); }
    details.addEventListener("toggle", () => { if (details.open) { load(); } });
  });
}
