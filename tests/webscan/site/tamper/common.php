<?php
// Tamper fixtures: each page shows its clean form, or its altered form when
// the file tamper_mode in the data folder says "tampered".
function tampered() {
    $f = (getenv('FIXTURE_DATA') ?: __DIR__ . '/../data') . '/tamper_mode';
    return is_file($f) && trim(file_get_contents($f)) === 'tampered';
}
function shop_text() {
    return "<p>Welcome to our fruit shop in the old town. We sell apples, pears and cherries from local farms every morning.</p>"
         . "<p>Opening hours are nine to five from Monday to Saturday. Orders by telephone are delivered within two days.</p>";
}
function head($t) { echo "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>$t</title></head><body><h1>$t</h1>"; }
