# Shared by kafka.sh (a local broker or cluster) and compose-node.sh / secrets.sh (Docker
# Compose): the local CA and broker certificate, one password per principal, and a node's
# rendered server.properties, so both set a broker up the same way. Sourced, not run; the
# caller defines log and die and sets:
#   KAFKA_SECURITY (plaintext | sasl_ssl), KAFKA_TLS_DIR, KAFKA_CREDENTIALS_DIR,
#   KAFKA_TLS_HOSTNAMES (extra DNS names for the certificate, comma-separated),
#   KAFKA_BROKER_SESSION_TIMEOUT_MS, KAFKA_BROKER_HEARTBEAT_MS.

KAFKA_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Every principal with a SCRAM credential. `broker` is the nodes' own (inter-broker) identity;
# the others are the hub's, and what each may do is packages/bus/src/acls.ts.
KAFKA_PRINCIPALS=(admin broker ingest correlator gateway)

# A local CA and the broker's certificate (EC P-256, PEM), made once. The broker's
# certificate names 127.0.0.1, localhost, kafka (the Compose service) and KAFKA_TLS_HOSTNAMES;
# clients verify it against ca.pem. The CA key stays beside it to sign a renewed certificate.
ensure_tls() {
  [[ -f "$KAFKA_TLS_DIR/broker.pem" && -f "$KAFKA_TLS_DIR/ca.pem" ]] && return 0
  command -v openssl >/dev/null 2>&1 || die "openssl not found (needed for KAFKA_SECURITY=sasl_ssl)"
  local dir="$KAFKA_TLS_DIR" tmp san="IP:127.0.0.1,DNS:localhost,DNS:kafka" name
  local -a names
  IFS=, read -r -a names <<<"$KAFKA_TLS_HOSTNAMES"
  for name in "${names[@]}"; do [[ -n "$name" ]] && san+=",DNS:$name"; done
  mkdir -p "$(dirname "$dir")"
  tmp="$(mktemp -d "$dir.new.XXXXXX")"
  (
    set -e
    umask 077
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/ca.key" 2>/dev/null
    openssl req -x509 -new -key "$tmp/ca.key" -sha256 -days 3650 -subj "/CN=renkei-local-kafka-ca" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
      -out "$tmp/ca.pem"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/broker.key" 2>/dev/null
    openssl req -new -key "$tmp/broker.key" -subj "/CN=renkei-kafka-broker" -out "$tmp/broker.csr"
    printf '%s\n' "subjectAltName=$san" "extendedKeyUsage=serverAuth,clientAuth" \
      "keyUsage=critical,digitalSignature,keyEncipherment" >"$tmp/ext"
    openssl x509 -req -in "$tmp/broker.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
      -days 825 -sha256 -extfile "$tmp/ext" -out "$tmp/broker.crt" 2>/dev/null
    # Kafka's PEM keystore: the PKCS#8 key, then the certificate chain, in one file.
    cat "$tmp/broker.key" "$tmp/broker.crt" "$tmp/ca.pem" >"$tmp/broker.pem"
    rm -f "$tmp/broker.csr" "$tmp/ext" "$tmp/ca.srl"
    chmod 644 "$tmp/ca.pem" "$tmp/broker.crt"
    chmod 755 "$tmp"
  ) || { rm -rf "$tmp"; die "openssl could not make the local CA and broker certificate"; }
  # One rename of the whole directory: of brokers starting together, the first complete set
  # wins (renaming onto an existing directory fails) and the others use it.
  if mv -T "$tmp" "$dir" 2>/dev/null; then
    log "made a local CA and broker certificate in $dir ($san)"
  else
    rm -rf "$tmp"
  fi
  [[ -f "$dir/broker.pem" ]] || die "$dir exists without broker.pem; delete it to make a new CA"
}

# One random password per principal, each in its own 0600 file, made once.
ensure_credentials() {
  local principal file
  mkdir -p "$KAFKA_CREDENTIALS_DIR"
  chmod 700 "$KAFKA_CREDENTIALS_DIR"
  for principal in "${KAFKA_PRINCIPALS[@]}"; do
    file="$KAFKA_CREDENTIALS_DIR/$principal"
    [[ -s "$file" ]] && continue
    # Never replace a password another start wrote meanwhile: the broker may be formatted with it.
    (umask 077; openssl rand -hex 24 >"$file.$$") && ln "$file.$$" "$file" 2>/dev/null || true
    rm -f "$file.$$"
  done
}

credential() { # principal
  local file="$KAFKA_CREDENTIALS_DIR/$1"
  [[ -s "$file" ]] || die "no password for $1 in $file"
  tr -d '\n' <"$file"
}

# Arguments for kafka-storage format that put every principal's SCRAM credential in the
# metadata from the start (the brokers need `broker`'s to talk to each other before anyone
# could add it); none in plaintext. Sets SCRAM_ARGS.
scram_format_args() {
  SCRAM_ARGS=()
  [[ "$KAFKA_SECURITY" == sasl_ssl ]] || return 0
  local principal
  for principal in "${KAFKA_PRINCIPALS[@]}"; do
    SCRAM_ARGS+=(--add-scram "SCRAM-SHA-512=[name=$principal,password=$(credential "$principal")]")
  done
}

# One node's server.properties from the templates. Plaintext keeps the listener names it
# always had; sasl_ssl names the client listener CLIENT (SASL_SSL) and secures the controller
# listener with mutual TLS. A listen host of "" listens on every interface (a container's).
render_node_properties() { # out listen_host advertised_host node_id port controller_port voters replicas min_isr data_dir
  local out="$1" listen="$2" advertised="$3" node_id="$4" port="$5" controller_port="$6"
  local voters="$7" replicas="$8" min_isr="$9" data_dir="${10}"
  local client=PLAINTEXT protocols="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
  if [[ "$KAFKA_SECURITY" == sasl_ssl ]]; then
    client=CLIENT protocols="CLIENT:SASL_SSL,CONTROLLER:SSL"
  fi
  sed -e "s|@PORT@|$port|g" \
      -e "s|@CONTROLLER_PORT@|$controller_port|g" \
      -e "s|@NODE_ID@|$node_id|g" \
      -e "s|@VOTERS@|$voters|g" \
      -e "s|@REPLICAS@|$replicas|g" \
      -e "s|@MIN_ISR@|$min_isr|g" \
      -e "s|@SESSION_TIMEOUT_MS@|$KAFKA_BROKER_SESSION_TIMEOUT_MS|g" \
      -e "s|@HEARTBEAT_MS@|$KAFKA_BROKER_HEARTBEAT_MS|g" \
      -e "s|@DATA_DIR@|$data_dir|g" \
      -e "s|@LISTENERS@|$client://$listen:$port,CONTROLLER://$listen:$controller_port|g" \
      -e "s|@ADVERTISED_LISTENERS@|$client://$advertised:$port|g" \
      -e "s|@PROTOCOL_MAP@|$protocols|g" \
      -e "s|@INTER_BROKER_LISTENER@|$client|g" "$KAFKA_LIB_DIR/server.properties.template" >"$out.tmp"
  if [[ "$KAFKA_SECURITY" == sasl_ssl ]]; then
    sed -e "s|@TLS_DIR@|$KAFKA_TLS_DIR|g" -e "s|@BROKER_PASSWORD@|$(credential broker)|g" \
      "$KAFKA_LIB_DIR/security.properties.template" >>"$out.tmp"
  fi
  # It holds the broker's own password in sasl_ssl mode.
  chmod 600 "$out.tmp"
  mv "$out.tmp" "$out"
}
