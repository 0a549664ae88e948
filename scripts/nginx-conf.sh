#!/bin/sh
# Writes a minimal nginx config serving DIR/www on ADDRESS:PORT into DIR/nginx.conf.
# Usage: nginx-conf.sh DIR LISTEN   (LISTEN as nginx takes it: 127.0.0.1:18080, [::1]:80, 80)
set -eu
dir=$1
listen=$2
mkdir -p "$dir/www" "$dir/logs"
printf 'hello from httpeek tests\n' > "$dir/www/index.html"
cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log;
daemon on;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $dir/body;
	proxy_temp_path $dir/proxy;
	fastcgi_temp_path $dir/fastcgi;
	uwsgi_temp_path $dir/uwsgi;
	scgi_temp_path $dir/scgi;
	keepalive_requests 1000000;
	server {
		listen $listen;
		root $dir/www;
		location / { }
	}
}
CONF
