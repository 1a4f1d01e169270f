// Buttons marked data-print print the page (a file of the site: the pages'
// Content-Security-Policy allows no inline script).
document.querySelectorAll('[data-print]').forEach((button) => {
  button.addEventListener('click', () => window.print());
});
