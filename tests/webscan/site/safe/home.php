<?php
echo "<p>Welcome to the fixture shop.</p>";
