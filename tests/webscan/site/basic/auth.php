<?php
// HTTP basic authentication (alice / wonderland) for the pages of /basic/.
if (($_SERVER['PHP_AUTH_USER'] ?? '') !== 'alice' || ($_SERVER['PHP_AUTH_PW'] ?? '') !== 'wonderland') {
    header('WWW-Authenticate: Basic realm="fixture"');
    http_response_code(401);
    echo "<html><body><p>Authentication required.</p></body></html>";
    exit;
}
