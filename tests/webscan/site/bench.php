<?php
// The crawl benchmark's site: 10 sections of 50 pages (/bench/sK/pN.html),
// each page linking on in its section and to the other sections, with the
// section's search form (the word is escaped) and a product link. More
// than 500 pages in all, with no vulnerability but the missing headers.
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
header('Content-Type: text/html; charset=utf-8');
echo "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Bench $path</title></head><body>";
if ($path === '/bench/' || $path === '/bench') {
    for ($k = 0; $k < 10; $k++) echo "<p><a href=\"/bench/s$k/p0.html\">section $k</a></p>";
} elseif (preg_match('#^/bench/s(\d)/p(\d+)\.html$#', $path, $m)) {
    [$all, $k, $n] = $m;
    echo "<h1>Section $k, page $n</h1><p>Fresh fruit of the season, page $n of section $k.</p>";
    foreach ([$n * 2 + 1, $n * 2 + 2, $n + 1] as $next)
        if ($next < 50) echo "<a href=\"p$next.html\">page $next</a> ";
    echo "<a href=\"/bench/s" . (($k + 1) % 10) . "/p$n.html\">next section</a> ";
    echo "<a href=\"item.php?id=$n\">item $n</a>";
    echo "<form action=\"search.php\" method=\"get\"><input name=\"q\"><input type=\"submit\" value=\"Search\"></form>";
} elseif (preg_match('#^/bench/s(\d)/search\.php$#', $path, $m)) {
    echo "<p>Results for " . htmlspecialchars($_GET['q'] ?? '', ENT_QUOTES) . ": none.</p>";
} elseif (preg_match('#^/bench/s(\d)/item\.php$#', $path, $m)) {
    echo "<p>Item " . (int)($_GET['id'] ?? 0) . ": apples, 120 yen.</p>";
} else {
    http_response_code(404);
    echo "<p>Not found</p>";
}
echo "</body></html>";
