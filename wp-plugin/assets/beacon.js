/*
 * Gardien page views for pages served by a page cache: one cookie-less beacon per page view.
 * Nothing is stored in the browser; the beacon carries the page's address and its referrer, the
 * server adds the visitor's address and user agent as it does for server-side counting.
 * Do Not Track and Global Privacy Control are honoured here when the site honours them; the
 * server checks the headers again. A prerendered page counts only once it is shown.
 */
(function () {
    'use strict';
    var config = window.gardienBeacon;
    if (!config || !navigator.sendBeacon) {
        return;
    }
    if (config.honourDnt && (navigator.globalPrivacyControl === true || navigator.doNotTrack === '1' || window.doNotTrack === '1')) {
        return;
    }
    var sent = false;
    function send() {
        if (sent) {
            return;
        }
        sent = true;
        var body = new URLSearchParams();
        body.append('url', window.location.href);
        body.append('referrer', document.referrer || '');
        navigator.sendBeacon(config.endpoint, body);
    }
    if (document.prerendering) {
        document.addEventListener('prerenderingchange', send, { once: true });
    } else {
        send();
    }
}());
