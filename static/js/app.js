/* The few behaviours plain HTML and htmx leave out; every page works without them.
   Served from static/ (the CSP allows scripts from this origin, and inline ones only with
   the per-request nonce). */
"use strict";

// Escape closes an open confirmation or the account menu, and gives the focus back to the
// button that opened it.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const details of document.querySelectorAll("details.confirm[open], details.account-menu[open]")) {
    details.open = false;
    details.querySelector("summary").focus();
  }
});

// A click anywhere else closes the account menu, as menus do.
document.addEventListener("click", (event) => {
  for (const menu of document.querySelectorAll("details.account-menu[open]")) {
    if (!menu.contains(event.target)) menu.open = false;
  }
});

// A polled fragment is replaced whole every few seconds, so no live region can sit inside it
// (each copy would be read out again). Instead, the text of its [data-announce] elements goes to
// the page's one live region, #announcer, only when it differs from what was last said.
function announceable() {
  return Array.from(document.querySelectorAll("[data-announce]"), (el) => el.textContent.trim())
    .filter(Boolean)
    .join(". ");
}

let said = announceable();  // what the page said when it loaded: not news

document.addEventListener("htmx:afterSettle", () => {
  const text = announceable();
  if (text === said) return;
  said = text;
  const region = document.getElementById("announcer");
  if (region) region.textContent = text;
});

// Tabs ([data-tabs]): the tab links work without JavaScript (?tab=crawl, a page load); here a
// click or the arrow keys switch the panel in place and keep the address in step.
for (const list of document.querySelectorAll("[data-tabs]")) {
  const tabs = Array.from(list.querySelectorAll('[role="tab"]'));
  const select = (tab, focus) => {
    for (const other of tabs) {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      other.tabIndex = selected ? 0 : -1;
      const panel = document.getElementById(other.getAttribute("aria-controls"));
      if (panel) panel.hidden = !selected;
    }
    if (focus) tab.focus();
    history.replaceState(history.state, "", tab.href);
  };
  list.addEventListener("click", (event) => {
    const tab = event.target.closest('[role="tab"]');
    if (!tab) return;
    event.preventDefault();
    select(tab, false);
  });
  list.addEventListener("keydown", (event) => {
    const index = tabs.indexOf(document.activeElement);
    if (index < 0) return;
    const step = { ArrowRight: 1, ArrowLeft: -1, Home: -index, End: tabs.length - 1 - index }[event.key];
    if (step === undefined) return;
    event.preventDefault();
    select(tabs[(index + step + tabs.length) % tabs.length], true);
  });
}

// Copy buttons ([data-copy]): hidden in the HTML, shown here where the clipboard can be used.
function showCopyButtons(root) {
  if (!navigator.clipboard) return;
  for (const button of root.querySelectorAll("button[data-copy][hidden]")) button.hidden = false;
}
showCopyButtons(document);
document.addEventListener("htmx:afterSettle", (event) => showCopyButtons(event.target));
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  try {
    await navigator.clipboard.writeText(button.dataset.copy);
    button.dataset.copied = "true";
    const region = document.getElementById("announcer");
    if (region) region.textContent = "Copied";
    setTimeout(() => delete button.dataset.copied, 1500);
  } catch {
    button.dataset.copied = "false";
  }
});

// An opened confirmation (details.confirm) is brought into view: below the fold, the click on
// its button would otherwise seem to do nothing.
document.addEventListener("toggle", (event) => {
  const details = event.target;
  if (!(details instanceof HTMLDetailsElement) || !details.open || !details.matches(".confirm")) return;
  const panel = details.querySelector("form") || details;
  panel.scrollIntoView({ block: "nearest" });
}, true);

// A checkbox that saves itself ([data-autosubmit]): its form is sent when it changes.
document.addEventListener("change", (event) => {
  const box = event.target.closest("input[data-autosubmit]");
  if (box && box.form) box.form.requestSubmit();
});
