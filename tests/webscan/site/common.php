<?php
// Shared by every page: the session (cookie OMSESS: HttpOnly, no SameSite),
// the login check, the database and the security headers of the safe pages.
// The session ends by itself after 400 requests (FIXTURE_SESSION_MAX), so
// that a scanner must notice it was logged out and log in again.
session_name('OMSESS');
session_set_cookie_params(['path' => '/', 'httponly' => true]);
session_start();

function data_dir() { return getenv('FIXTURE_DATA') ?: __DIR__ . '/data'; }

function db() {
    static $db = null;
    if ($db) return $db;
    $path = data_dir() . '/site.db';
    $new = !file_exists($path);
    $db = new SQLite3($path);
    $db->busyTimeout(5000);
    if ($new) {
        $db->exec("CREATE TABLE IF NOT EXISTS products (id INTEGER PRIMARY KEY, name TEXT, price INTEGER)");
        $db->exec("INSERT INTO products (name, price) VALUES ('apple', 120), ('banana', 80), ('cherry', 300)");
        $db->exec("CREATE TABLE IF NOT EXISTS guestbook (id INTEGER PRIMARY KEY, name TEXT, comment TEXT)");
        $db->exec("CREATE TABLE IF NOT EXISTS guestbook_safe (id INTEGER PRIMARY KEY, name TEXT, comment TEXT)");
        $db->exec("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)");
        $db->exec("INSERT INTO users (name, email) VALUES ('admin', 'admin@example.com')");
    }
    return $db;
}

function safe_headers() {
    header("Content-Security-Policy: default-src 'self'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
    header('X-Frame-Options: DENY');
    header('X-Content-Type-Options: nosniff');
    header('Referrer-Policy: same-origin');
}

function require_login() {
    if (empty($_SESSION['user'])) {
        header('Location: /login.php');
        exit;
    }
    $_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1;
    if ($_SESSION['n'] > (int)(getenv('FIXTURE_SESSION_MAX') ?: 400)) {
        session_destroy();
        header('Location: /login.php');
        exit;
    }
}

function page_start($title) {
    echo "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" . htmlspecialchars($title) . "</title></head><body>";
    echo "<p><a href=\"/\">home</a> | <a href=\"/logout.php\">log out</a></p><h1>" . htmlspecialchars($title) . "</h1>";
}
function page_end() { echo "</body></html>"; }

// The per-session anti-CSRF token of the forms that have one.
function csrf_token() {
    if (empty($_SESSION['csrf'])) $_SESSION['csrf'] = bin2hex(random_bytes(16));
    return $_SESSION['csrf'];
}
function csrf_field() { return "<input type=\"hidden\" name=\"csrf_token\" value=\"" . csrf_token() . "\">"; }
function csrf_ok() { return isset($_POST['csrf_token']) && hash_equals(csrf_token(), $_POST['csrf_token']); }
