// The console's only script: confirmations in dialogs, live progress, the Spectrum preview.
// Everything works as plain forms and links; this adds what a page alone cannot do.
(function () {
  'use strict';

  function init(root) {
    root.querySelectorAll('[data-dialog]').forEach(function (button) {
      button.addEventListener('click', function () {
        var dialog = document.getElementById(button.getAttribute('data-dialog'));
        if (dialog && dialog.showModal) dialog.showModal();
      });
    });
    root.querySelectorAll('dialog [data-close]').forEach(function (button) {
      button.addEventListener('click', function () { button.closest('dialog').close(); });
    });
    // A form is sent once: a second click while it is on its way does nothing.
    root.querySelectorAll('form[method=post]').forEach(function (form) {
      form.addEventListener('submit', function (event) {
        if (form.dataset.sent) { event.preventDefault(); return; }
        form.dataset.sent = '1';
        setTimeout(function () {
          form.querySelectorAll('button[type=submit]').forEach(function (b) { b.disabled = true; });
        }, 0);
      });
    });
    var preview = root.querySelector('[data-preview-src]');
    if (preview) {
      var load = function (url) { loadPreview(preview, url || preview.getAttribute('data-preview-src')); };
      root.querySelectorAll('[data-preview-load]').forEach(function (b) { b.addEventListener('click', function () { load(); }); });
      if (preview.hasAttribute('data-auto')) load();
    }
    var progress = root.querySelector('#progress[data-follow]');
    if (progress) follow(progress);
    fillTokenFromLink(root);
  }

  // A sign-in link may carry a token in its fragment (`/console/sign-in#token=…`, printed by
  // `npm run demo`): the fragment never reaches a server or its logs. The form is filled, never sent
  // by itself: a link must not sign anyone in to someone else's account.
  function fillTokenFromLink(root) {
    var field = root.querySelector('#token-form #token');
    var match = /^#token=([A-Za-z0-9_\-]{1,200})$/.exec(window.location.hash);
    if (!field || !match) return;
    field.value = match[1];
    history.replaceState(null, '', window.location.pathname + window.location.search);
    var button = root.querySelector('#token-form button[type=submit]');
    if (button) button.focus();
  }

  function loadPreview(container, url) {
    container.setAttribute('aria-busy', 'true');
    container.innerHTML = '<p class="muted">Reading Spectrum…</p>';
    fetch(url, { headers: { accept: 'text/html', 'x-console-fragment': '1' }, credentials: 'same-origin' })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return ''; }
        return response.text();
      })
      .then(function (html) {
        container.innerHTML = html;
        container.removeAttribute('aria-busy');
        container.querySelectorAll('[data-preview-page]').forEach(function (a) {
          a.addEventListener('click', function (event) { event.preventDefault(); loadPreview(container, a.getAttribute('href')); });
        });
      })
      .catch(function () { container.innerHTML = '<p class="flash error" role="alert">The preview could not be loaded. Try again.</p>'; });
  }

  var timer = null;
  function follow(panel) {
    if (timer) clearTimeout(timer);
    var id = panel.getAttribute('data-budget');
    var version = panel.getAttribute('data-version');
    var tick = function () {
      fetch('/console/budgets/' + id + '/progress', { headers: { accept: 'application/json' }, credentials: 'same-origin' })
        .then(function (response) { return response.json().then(function (body) { return { status: response.status, body: body }; }); })
        .then(function (result) {
          if (result.status === 401 && result.body.signIn) { window.location.assign(result.body.signIn); return; }
          if (result.status !== 200) { timer = setTimeout(tick, 3000); return; }
          var p = result.body;
          panel.querySelector('[data-progress=label]').textContent = p.statusLabel;
          panel.querySelector('[data-progress=detail]').textContent =
            p.rows.written.toLocaleString('en-US') + ' of ' + p.rows.total.toLocaleString('en-US') + ' rows written' +
            (p.rows.failed ? ', ' + p.rows.failed.toLocaleString('en-US') + ' failed' : '');
          var bar = panel.querySelector('[data-progress=bar]');
          bar.max = Math.max(1, p.rows.total);
          bar.value = p.rows.written;
          panel.setAttribute('data-status', p.status);
          if (p.version !== version) { refresh(); return; }
          timer = setTimeout(tick, 1000);
        })
        .catch(function () { timer = setTimeout(tick, 3000); });
    };
    timer = setTimeout(tick, 1000);
  }

  // The status changed: the page's content is fetched again and swapped in place (no reload).
  function refresh() {
    fetch(window.location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, 'text/html').querySelector('main');
        var main = document.querySelector('main');
        if (!next || !main) { window.location.reload(); return; }
        main.innerHTML = next.innerHTML;
        init(main);
      })
      .catch(function () { window.location.reload(); });
  }

  document.addEventListener('DOMContentLoaded', function () { init(document); });
})();
