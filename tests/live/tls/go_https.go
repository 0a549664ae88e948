// An HTTPS server and client on Go's net/http and crypto/tls alone (no modules), built by
// tests/live/tls/check_go_tls.py. Each logs what it did, one line per message, to compare with
// httpeek's events:
//
//	go_https serve ADDR CERT KEY      "request METHOD PATH" per request served
//	go_https get URL CA N DELAY_MS    "response STATUS PATH" per response, after DELAY_MS
//
// HTTP/1.1 only (the server's TLSNextProto empty, the client's too); serve2 and get2 speak
// HTTP/2 (ALPN h2, Go's default), the same otherwise.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func serve(addr, cert, key string, h2 bool) {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Printf("request %s %s\n", r.Method, r.URL.Path)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "served %s (%d bytes in)\n", r.URL.Path, len(body))
	})
	srv := &http.Server{Addr: addr, Handler: mux,
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){}}
	if h2 {
		srv.TLSNextProto = nil
	}
	if err := srv.ListenAndServeTLS(cert, key); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}

func get(url, ca string, n, delay int, h2 bool) {
	pem, err := os.ReadFile(ca)
	if err != nil {
		fmt.Fprintln(os.Stderr, "get:", err)
		os.Exit(1)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool},
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}
	if h2 {
		tr = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	}
	client := &http.Client{Transport: tr}
	time.Sleep(time.Duration(delay) * time.Millisecond)
	for i := 0; i < n; i++ {
		path := fmt.Sprintf("/go/%d", i)
		var resp *http.Response
		if i%3 == 2 {
			resp, err = client.Post(url+path, "text/plain", strings.NewReader("payload "+path))
		} else {
			resp, err = client.Get(url + path)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "get:", err)
			os.Exit(1)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Printf("response %d %s %s\n", resp.StatusCode, path, resp.Proto)
	}
}

func main() {
	if len(os.Args) == 5 && (os.Args[1] == "serve" || os.Args[1] == "serve2") {
		serve(os.Args[2], os.Args[3], os.Args[4], os.Args[1] == "serve2")
		return
	}
	if len(os.Args) == 6 && (os.Args[1] == "get" || os.Args[1] == "get2") {
		n, _ := strconv.Atoi(os.Args[4])
		delay, _ := strconv.Atoi(os.Args[5])
		get(os.Args[2], os.Args[3], n, delay, os.Args[1] == "get2")
		return
	}
	fmt.Fprintln(os.Stderr, "usage: go_https serve|serve2 ADDR CERT KEY | get|get2 URL CA N DELAY_MS")
	os.Exit(2)
}
