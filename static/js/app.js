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
