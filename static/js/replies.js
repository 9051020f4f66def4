// The exercise page's reply forms arrive light: the text and a link that
// shows the page again with the whole form (the path without JavaScript).
// This fills each one from the page's single <template id="reply-extras">:
// the part of the attempt it pins, drawings and voice-over, a clip, "ask
// for another try", with the entry's own ids, instead of the page carrying
// all of it once per entry. It runs before the studio and the choices look
// for these fields.

const PLACEHOLDER = "__ID__";

/** Completes every light reply form under `section`. */
export function mountReplyForms(section) {
  const template = section && section.querySelector("template#reply-extras");
  if (!template) { return; }
  section.querySelectorAll("form[data-reply-light]").forEach((form) => {
    const parent = form.querySelector("input[name=parent_id]");
    const actions = form.querySelector(".form-actions");
    if (!parent || !actions) { return; }
    const extras = template.content.cloneNode(true);
    extras.querySelectorAll("*").forEach((el) => {
      Array.from(el.attributes).forEach((attr) => {
        if (attr.value.includes(PLACEHOLDER)) { el.setAttribute(attr.name, attr.value.split(PLACEHOLDER).join(parent.value)); }
      });
    });
    const attempt = form.getAttribute("data-attempt");
    if (attempt) {
      extras.querySelector("input[name=attempt_video_id]").value = attempt;
    } else {
      extras.querySelectorAll("[data-attempt-only]").forEach((el) => el.remove());
    }
    const author = form.getAttribute("data-retry");
    if (author) {
      extras.querySelectorAll("[data-retry-name]").forEach((el) => { el.textContent = author; });
    } else {
      extras.querySelectorAll("[data-retry-only]").forEach((el) => el.remove());
    }
    const more = form.querySelector("[data-reply-more]");
    if (more) { more.remove(); }
    actions.before(extras);
    form.removeAttribute("data-reply-light");
  });
}
