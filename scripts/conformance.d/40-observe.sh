# shellcheck shell=bash
# Traffic evidence (`observe pcap`) on real captures, and the MUD export
# against real MUD files. The expected flows and names are the ones
# Wireshark shows for these files (Statistics › Conversations, the
# tls.handshake.extensions_server_name and dns fields).

PCAP="$VECTORS/pcap"
MUD="$VECTORS/mud"

# observe FILE DEVICE → $WORK/<name>-<device>.json; fails the check on exit != 0.
observe() {
    local out="$WORK/$(basename "$1")-$2.json"
    "$BLUEPRINT" observe pcap "$1" --device "$2" --force -o "$out" 2>"$out.err" || { cat "$out.err"; return 1; }
    echo "$out"
}

# has OBS JQ-FILTER: the filter must print `true`.
has() {
    [ "$(jq -e "$2" "$1" 2>/dev/null)" = "true" ] || { echo "  not satisfied: $2"; return 1; }
}

flow() { # flow OBS IP PORT TRANSPORT → the flow exists
    has "$1" "any(.traffic.flows[]; .remote_ip == \"$2\" and .port == $3 and .transport == \"$4\")"
}

sni() { # sni OBS IP NAME
    has "$1" "any(.traffic.flows[]; .remote_ip == \"$2\" and (.tls_sni | index(\"$3\")) != null and .encrypted == true)"
}

if [ ! -d "$PCAP" ]; then
    fail "observe: $PCAP missing"
else
    # Every capture: an observation, a complete coverage, and the device's packets.
    for f in "$PCAP"/*.pcap; do
        case "$(basename "$f")" in
            neu-yi-camera-sample.pcap) dev=192.168.10.204 ;;
            toolsaf-deltaco-setup.pcap) dev=192.168.4.19 ;;
            toolsaf-dhcp.pcap) dev=30:c6:f7:52:db:5c ;;
            toolsaf-dns-large-set.pcap) dev=192.168.4.7 ;;
            toolsaf-dns.pcap) dev=192.168.20.132 ;;
            toolsaf-test.pcap) dev=10.42.0.184 ;;
            *) dev= ;;
        esac
        if [ -z "$dev" ]; then
            fail "observe: no expectation for $(basename "$f")"
            continue
        fi
        if o=$(observe "$f" "$dev"); then
            check "observe $(basename "$f"): complete, device seen" \
                has "$o" '.traffic.coverage.truncated == false and (.traffic.coverage.partial | length) == 0 and .traffic.coverage.packets_device > 0 and .traffic.coverage.link_types == ["ETHERNET"]'
        else
            fail "observe $(basename "$f")"
        fi
    done

    # Tuya app + plug (toolsaf-test.pcap): TLS server names in the ClientHellos.
    if o=$(observe "$PCAP/toolsaf-test.pcap" 10.42.0.133); then
        check "toolsaf-test: 871 records, 801 of the app host" has "$o" '.traffic.coverage.packets_total == 871 and .traffic.coverage.packets_device == 801'
        check "toolsaf-test: SNI a1.tuyaeu.com on 18.193.211.120:443" sni "$o" 18.193.211.120 a1.tuyaeu.com
        check "toolsaf-test: SNI m1.tuyaeu.com on 18.194.10.142:8883 (MQTT over TLS)" sni "$o" 18.194.10.142 m1.tuyaeu.com
        check "toolsaf-test: local Tuya protocol to the plug 10.42.0.184:6668" flow "$o" 10.42.0.184 6668 tcp
    else fail "toolsaf-test: observe"; fi
    if o=$(observe "$PCAP/toolsaf-test.pcap" 7c:f6:66:24:a7:36); then
        check "toolsaf-test: plug by MAC is 10.42.0.184" has "$o" '.traffic.device.ips == ["10.42.0.184"]'
        check "toolsaf-test: plug TLS to 3.66.126.37:8886" has "$o" 'any(.traffic.flows[]; .remote_ip == "3.66.126.37" and .port == 8886 and .encrypted == true)'
        check "toolsaf-test: plug UDP broadcast discovery on 6667" flow "$o" 255.255.255.255 6667 udp
    else fail "toolsaf-test: observe by MAC"; fi

    # Deltaco plug setup: the phone's app and the plug itself.
    if o=$(observe "$PCAP/toolsaf-deltaco-setup.pcap" 192.168.4.16); then
        check "deltaco: SNI images.tuyaeu.com on 108.157.214.122:443" sni "$o" 108.157.214.122 images.tuyaeu.com
        check "deltaco: SNI gsp-ssl.ls.apple.com on 17.253.39.208" sni "$o" 17.253.39.208 gsp-ssl.ls.apple.com
        check "deltaco: QUIC to 17.248.150.203:443/udp" has "$o" 'any(.traffic.flows[]; .remote_ip == "17.248.150.203" and .transport == "udp" and .protocol == "quic")'
        check "deltaco: DNS question mask.apple-dns.net" has "$o" 'any(.traffic.dns[]; .name == "mask.apple-dns.net" and .resolver == "192.168.4.1")'
    else fail "deltaco: observe phone"; fi
    if o=$(observe "$PCAP/toolsaf-deltaco-setup.pcap" 192.168.4.19); then
        check "deltaco plug: TLS to 18.195.249.137:443, 3.122.134.146:443, 3.67.242.33:8886" \
            has "$o" '[.traffic.flows[] | select(.scope == "public") | "\(.remote_ip):\(.port)"] | sort == ["18.195.249.137:443", "3.122.134.146:443", "3.67.242.33:8886"]'
        check "deltaco plug: every public flow encrypted" has "$o" 'all(.traffic.flows[] | select(.scope == "public"); .encrypted == true)'
        check "deltaco plug: DHCP with 192.168.4.1" has "$o" 'any(.traffic.flows[]; .remote_ip == "192.168.4.1" and .protocol == "dhcp")'
    else fail "deltaco: observe plug"; fi

    # Alexa DNS query (toolsaf-dns.pcap).
    if o=$(observe "$PCAP/toolsaf-dns.pcap" 192.168.20.132); then
        check "dns: query avs-alexa-na.amazon.com A to 155.198.142.7" \
            has "$o" 'any(.traffic.dns[]; .name == "avs-alexa-na.amazon.com" and .qtype == "A" and .resolver == "155.198.142.7" and .count == 1)'
        check "dns: answer 54.239.21.157" has "$o" 'any(.traffic.dns[]; .name == "avs-alexa-na.amazon.com" and (.answers | index("54.239.21.157")) != null)'
        check "dns: plaintext DNS flow to 155.198.142.7:53" has "$o" 'any(.traffic.flows[]; .remote_ip == "155.198.142.7" and .port == 53 and .protocol == "dns" and .encrypted == false)'
    else fail "dns: observe"; fi

    # Ruuvi gateway DNS (toolsaf-dns-large-set.pcap).
    if o=$(observe "$PCAP/toolsaf-dns-large-set.pcap" 192.168.4.7); then
        check "dns-large: network.ruuvi.com asked 153 times" has "$o" 'any(.traffic.dns[]; .name == "network.ruuvi.com" and .qtype == "A" and .count == 153)'
        check "dns-large: api.github.com and time.google.com" has "$o" '([.traffic.dns[].name] | index("api.github.com") != null and index("time.google.com") != null)'
    else fail "dns-large: observe"; fi

    # DHCP by MAC: the discover/request leave from 0.0.0.0 to the broadcast address.
    if o=$(observe "$PCAP/toolsaf-dhcp.pcap" 30:c6:f7:52:db:5c); then
        check "dhcp: broadcast to 255.255.255.255:67 and replies from 192.168.4.1" \
            has "$o" 'any(.traffic.flows[]; .remote_ip == "255.255.255.255" and .port == 67 and .packets_out == 4) and any(.traffic.flows[]; .remote_ip == "192.168.4.1" and .packets_in == 4)'
        check "dhcp: device address learnt 192.168.4.7" has "$o" '.traffic.device.ips == ["192.168.4.7"]'
    else fail "dhcp: observe"; fi

    # Yi camera: UDP to bare IPs on 32100, no DNS at all.
    if o=$(observe "$PCAP/neu-yi-camera-sample.pcap" 192.168.10.204); then
        check "yi: UDP 32100 to 47.88.59.209, 47.90.240.160, 47.74.255.9" \
            has "$o" '[.traffic.flows[] | select(.scope == "public") | "\(.remote_ip):\(.port)/\(.transport)"] | sort == ["47.74.255.9:32100/udp", "47.88.59.209:32100/udp", "47.90.240.160:32100/udp"]'
        check "yi: no DNS, no names on the public flows" has "$o" '(.traffic.dns | length) == 0 and all(.traffic.flows[] | select(.scope == "public"); (.dns_names + .tls_sni + .http_host) == [])'
        # The diff must call those bare-IP flows undeclared recipients (P3).
        bp="$WORK/yi-blueprint.json"
        printf '%s' '{"blueprint":{"id":"yi-cam","version":1},"data_items":[],"network_endpoints":[{"host":"api.yitechnology.example","protocol":"https","tls":{"enabled":true},"carries_items":[]}]}' >"$bp"
        "$BLUEPRINT" diff "$bp" --evidence "$o" --format json >"$WORK/yi-diff.json"
        rc=$?
        check "yi: diff exits 1 with three P3 bare-IP recipients" \
            has "$WORK/yi-diff.json" "$rc == 1 and ([.deviations[] | select(.class == \"P3\") | .ids[0]] | sort == [\"47.74.255.9\", \"47.88.59.209\", \"47.90.240.160\"])"
    else fail "yi: observe"; fi

    # A truncated copy is refused, or with --allow-truncated is marked partial
    # and the diff reports insufficient evidence (never "matches").
    head -c 100000 "$PCAP/toolsaf-test.pcap" >"$WORK/cut.pcap"
    if "$BLUEPRINT" observe pcap "$WORK/cut.pcap" --device 10.42.0.133 >/dev/null 2>&1; then
        fail "truncated capture: observe must fail"
    else
        pass "truncated capture: observe fails"
    fi
    "$BLUEPRINT" observe pcap "$WORK/cut.pcap" --device 10.42.0.133 --allow-truncated -o "$WORK/cut.json" 2>/dev/null
    check "truncated capture: --allow-truncated marks it truncated" has "$WORK/cut.json" '.traffic.coverage.truncated == true'
    "$BLUEPRINT" diff tests/fixtures/diff/base.json --evidence "$WORK/cut.json" --format json >"$WORK/cut-diff.json"
    rc=$?
    # (The host's flows are also undeclared in that blueprint, so exit 1 wins over 2.)
    check "truncated capture: diff reports insufficient evidence, non-zero exit" has "$WORK/cut-diff.json" "$rc != 0 and (.insufficient_evidence | length) > 0 and .verdict != \"matches\""
fi

# MUD export: the same structure as real RFC 8520 files.
if [ ! -d "$MUD" ]; then
    fail "mud: $MUD missing"
else
    "$BLUEPRINT" mud tests/fixtures/diff/base.json --mud-url https://acme.example/cam.json --allow-errors -o "$WORK/mud.json" 2>/dev/null
    # Every key path of our file (list positions elided) must occur in the
    # real files (the NIST profiles call the ACL container `access-lists`).
    # IPv6 ACEs have the IPv4 shape (RFC 8519 §4.1); the samples have no
    # IPv6 and omit the optional mfg-name, model-name, firmware-rev leaves
    # of RFC 8520 §2.1, which are allowed by name.
    paths='[paths(type != "object" and type != "array") | map(if type == "number" then "[]" else . end) | join("/")] | unique'
    jq -r "$paths | .[]" "$MUD/Luminaire_150.json" "$MUD"/unsw-devices/*.json 2>/dev/null \
        | sed 's#ietf-access-control-list:access-lists#ietf-access-control-list:acls#' | sort -u >"$WORK/mud-real.txt"
    printf '%s\n' ietf-mud:mud/mfg-name ietf-mud:mud/model-name ietf-mud:mud/firmware-rev >>"$WORK/mud-real.txt"
    sort -u -o "$WORK/mud-real.txt" "$WORK/mud-real.txt"
    jq -r "$paths | .[]" "$WORK/mud.json" | sed 's#/matches/ipv6/#/matches/ipv4/#; s#ipv6-network#ipv4-network#' | sort -u >"$WORK/mud-ours.txt"
    extra=$(comm -23 "$WORK/mud-ours.txt" "$WORK/mud-real.txt")
    if [ -z "$extra" ]; then pass "mud: every field path occurs in the real MUD files"; else fail "mud: unknown paths: $extra"; fi
    check "mud: top level is ietf-mud:mud + ietf-access-control-list:acls (as Luminaire_150)" \
        has "$WORK/mud.json" '(keys == ["ietf-access-control-list:acls", "ietf-mud:mud"])'
    check "mud: required mud fields (RFC 8520 §2.1)" has "$WORK/mud.json" \
        '."ietf-mud:mud" | has("mud-version") and has("mud-url") and has("last-update") and has("cache-validity") and has("is-supported") and has("systeminfo") and has("from-device-policy") and has("to-device-policy")'
    check "mud: every policy names an existing ACL" has "$WORK/mud.json" \
        '([."ietf-access-control-list:acls".acl[].name]) as $n | all(."ietf-mud:mud"["from-device-policy", "to-device-policy"]["access-lists"]["access-list"][]; .name as $x | $n | index($x) != null)'
    check "mud: api.acme.example allowed from the device on 443/tcp, device-initiated" has "$WORK/mud.json" \
        'any(."ietf-access-control-list:acls".acl[].aces.ace[]; .matches.ipv4["ietf-acldns:dst-dnsname"] == "api.acme.example" and .matches.tcp["destination-port"].port == 443 and .matches.tcp["ietf-mud:direction-initiated"] == "from-device")'
    check "mud: Luminaire_150 itself passes the same structural checks" has "$MUD/Luminaire_150.json" \
        '([."ietf-access-control-list:acls".acl[].name]) as $n | all(."ietf-mud:mud"["from-device-policy", "to-device-policy"]["access-lists"]["access-list"][]; .name as $x | $n | index($x) != null)'
fi
