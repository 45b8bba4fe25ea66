// Progressive enhancement only: every page works without this file.
document.addEventListener('submit', function (event) {
  var button = event.submitter;
  if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});
document.addEventListener('click', function (event) {
  var target = event.target.closest('[data-copy]');
  if (!target) return;
  var field = document.getElementById(target.dataset.copy);
  if (field && navigator.clipboard) {
    navigator.clipboard.writeText(field.value || field.textContent);
    target.classList.add('btn-success');
  }
});
