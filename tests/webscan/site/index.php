<?php
require __DIR__ . '/common.php';
safe_headers();
echo "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Fixture shop</title></head><body><h1>Fixture shop</h1>";
if (empty($_SESSION['user'])) {
    echo "<p>Please <a href=\"/login.php\">log in</a>.</p>";
} else {
    echo "<p>Hello " . htmlspecialchars($_SESSION['user']) . ". <a href=\"/logout.php\">log out</a></p><ul>";
    foreach (['vuln', 'safe'] as $d) {
        foreach (['xss.php?q=hello', 'guestbook.php', 'dom.php?name=guest', 'product.php?id=1',
                  'search.php?name=apple', 'ping.php?host=localhost', 'view.php?file=about.txt',
                  'page.php?page=home', 'files/', 'csrf.php', 'go.php?url=/index.php',
                  'upload.php', 'config.php', 'debug.php', 'cookie.php', 'banner.php', 'password.php', 'reset.php'] as $p) {
            echo "<li><a href=\"/$d/$p\">$d $p</a></li>";
        }
    }
    echo "</ul>";
}
echo "</body></html>";
