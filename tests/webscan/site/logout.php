<?php
// Logs out, except in the side-by-side run with Wapiti (FIXTURE_NO_LOGOUT):
// Wapiti 3.0.4's exclusion option fails under Python 3.11, so it would
// follow this link and lose its session.
require __DIR__ . '/common.php';
if (!getenv('FIXTURE_NO_LOGOUT')) session_destroy();
header('Location: /login.php');
