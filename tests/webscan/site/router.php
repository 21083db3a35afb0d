<?php
// Router of the fixture site for `php -S 127.0.0.1:PORT router.php`.
// Directories: listed under /vuln/ (directory indexing), forbidden elsewhere.
// Unknown paths under /safe/ answer 200 with a "not found" page (a soft 404),
// so that backup-file guesses there must not be taken for files.
// Every request, one line "METHOD URI", for the tests (PHP's own log leaves
// out what the router answers itself).
file_put_contents((getenv('FIXTURE_DATA') ?: __DIR__ . '/data') . '/requests.log',
    $_SERVER['REQUEST_METHOD'] . ' ' . $_SERVER['REQUEST_URI'] . "\n", FILE_APPEND | LOCK_EX);
$path = urldecode(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH));
if (strpos($path, '..') !== false) { http_response_code(400); exit; }
$file = __DIR__ . $path;
if (strncmp($path, '/bench', 6) === 0) { require __DIR__ . '/bench.php'; return true; }
if (is_dir($file)) {
    if (is_file($file . '/index.php')) { require $file . '/index.php'; return true; }
    if (strncmp($path, '/vuln/', 6) === 0) {
        require __DIR__ . '/common.php';
        require_login();
        echo "<html><head><title>Index of $path</title></head><body><h1>Index of $path</h1><ul>";
        echo "<li><a href=\"../\">Parent Directory</a></li>";
        foreach (scandir($file) as $f) {
            if ($f[0] === '.') continue;
            echo "<li><a href=\"" . rawurlencode($f) . "\">" . htmlspecialchars($f) . "</a></li>";
        }
        echo "</ul></body></html>";
        return true;
    }
    http_response_code(403);
    echo "<html><body><h1>Forbidden</h1></body></html>";
    return true;
}
if (is_file($file)) {
    if (substr($file, -4) === '.php') return false; // run it
    if (substr($file, -4) === '.bak' || substr($file, -4) === '.txt') {
        header('Content-Type: text/plain');
        readfile($file);
        return true;
    }
    return false;
}
if (strncmp($path, '/safe/', 6) === 0) {
    require __DIR__ . '/common.php';
    safe_headers();
    echo "<html><head><title>Not found</title></head><body><h1>Sorry</h1><p>This page does not exist. Go back to the <a href=\"/\">home page</a>.</p></body></html>";
    return true;
}
http_response_code(404);
echo "<html><body><h1>Not found</h1></body></html>";
return true;
