package io.jetkv.server.tls;

import io.jetkv.config.TlsConfig;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.OptionalSslHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS side of a listener (client port, WebSocket, routes, HTTPS monitoring): one {@link SslContext} built
 * from a {@link TlsConfig}, and a handler per connection. BoringSSL (netty-tcnative) when its native library
 * loads, else the JDK's engine; {@code -Djetkv.tls.provider=jdk} forces the JDK engine.
 *
 * <p>Threading: built on the starting thread, and again on the reload thread when a config reload (SIGHUP)
 * swaps in a new one; {@link #install} runs on a connection's event loop. Immutable: connections keep the
 * instance they were set up with, so a reload changes the certificate for new connections only.
 */
public final class ServerTls {
    private static final Logger LOG = LoggerFactory.getLogger(ServerTls.class);
    static final String HANDLER = "tls";
    private static final List<String> TLS13_SUITES =
            List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");

    private final TlsConfig config;
    private final SslContext context;
    /** For dialled routes: presents the same certificate; null on the client port. */
    private final SslContext clientContext;
    private final SslProvider provider;
    /** SHA-256 of the certificate, key and CA files as read: tells a reload that rewrote them in place. */
    private final byte[] material;

    private ServerTls(TlsConfig config, SslContext context, SslContext clientContext, SslProvider provider,
            byte[] material) {
        this.config = config;
        this.context = context;
        this.clientContext = clientContext;
        this.provider = provider;
        this.material = material;
    }

    /**
     * Loads the certificate, key and CA files.
     *
     * @throws IllegalArgumentException naming the file or setting that could not be used
     */
    public static ServerTls create(TlsConfig config) {
        SslProvider provider = chooseProvider();
        try {
            byte[] material = digest(config);
            return new ServerTls(config, build(config, provider), null, provider, material);
        } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalArgumentException("error parsing tls config: " + describe(e, config), e);
        }
    }

    /**
     * TLS on routes ({@code cluster { tls { } }}). As nats-server, routes verify each other whatever
     * {@code verify} says: an accepted route must present a certificate from {@code ca_file}, and a dialled
     * route presents this server's certificate and checks the peer's against {@code ca_file}, and against the
     * host of the route URL (as Go's client does with the URL's host as server name).
     */
    public static ServerTls createForRoutes(TlsConfig config) {
        SslProvider provider = chooseProvider();
        TlsConfig verified = config.withVerify(true);
        try {
            SslContextBuilder client = SslContextBuilder.forClient()
                    .sslProvider(provider)
                    .keyManager(PemFiles.privateKey(config.keyFile()), PemFiles.certificates(config.certFile()))
                    .protocols(config.minVersion().equals("1.3") ? new String[] {"TLSv1.3"}
                            : new String[] {"TLSv1.3", "TLSv1.2"});
            if (config.caFile() != null) {
                client.trustManager(PemFiles.certificates(config.caFile()));
            }
            return new ServerTls(verified, build(verified, provider), client.build(), provider, digest(config));
        } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalArgumentException("error parsing cluster tls config: " + describe(e, config), e);
        }
    }

    /** Route dialled by this server: TLS at once, this side as the TLS client. Event loop of the channel. */
    public void installDialled(ChannelPipeline pipeline, String host, int port) {
        SslHandler h = clientContext.newHandler(pipeline.channel().alloc(), host, port);
        h.setHandshakeTimeoutMillis(config.timeout().toMillis());
        pipeline.addFirst(HANDLER, h);
    }

    /**
     * True when {@code a} and {@code b} were built from the same bytes of certificate, key and CA files, or
     * are both null (TLS off).
     */
    public static boolean sameFiles(ServerTls a, ServerTls b) {
        if (a == null || b == null) {
            return a == b;
        }
        return MessageDigest.isEqual(a.material, b.material);
    }

    private static byte[] digest(TlsConfig c) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        for (java.nio.file.Path p : new java.nio.file.Path[] {c.certFile(), c.keyFile(), c.caFile()}) {
            // a file boundary marker, so that moving bytes from one file to the next is a change too
            md.update((byte) 0);
            if (p != null) {
                md.update(java.nio.file.Files.readAllBytes(p));
            }
        }
        return md.digest();
    }

    private static SslProvider chooseProvider() {
        if ("jdk".equalsIgnoreCase(System.getProperty("jetkv.tls.provider"))) {
            return SslProvider.JDK;
        }
        if (OpenSsl.isAvailable()) {
            return SslProvider.OPENSSL;
        }
        LOG.warn("TLS: the native OpenSSL library could not be loaded ({}); using the JDK's TLS engine",
                String.valueOf(OpenSsl.unavailabilityCause()));
        return SslProvider.JDK;
    }

    private static SslContext build(TlsConfig c, SslProvider provider) throws IOException, GeneralSecurityException {
        SslContextBuilder b = SslContextBuilder.forServer(PemFiles.privateKey(c.keyFile()),
                        PemFiles.certificates(c.certFile()))
                .sslProvider(provider)
                // Go's server default is TLS 1.2 at least, as is nats-server's
                .protocols(c.minVersion().equals("1.3") ? new String[] {"TLSv1.3"}
                        : new String[] {"TLSv1.3", "TLSv1.2"});
        if (c.verify()) {
            b.clientAuth(ClientAuth.REQUIRE);
            if (c.caFile() != null) {
                b.trustManager(PemFiles.certificates(c.caFile()));
            }
        }
        if (!c.cipherSuites().isEmpty()) {
            // Go keeps TLS 1.3's suites on whatever the list says; naming 1.2 suites only would turn 1.3 off here
            List<String> suites = new ArrayList<>(TLS13_SUITES);
            for (String s : c.cipherSuites()) {
                // Go drops the _SHA256 of the ChaCha20 suites' IANA names
                suites.add(s.endsWith("CHACHA20_POLY1305") ? s + "_SHA256" : s);
            }
            b.ciphers(suites, SupportedCipherSuiteFilter.INSTANCE);
        }
        if (!c.curvePreferences().isEmpty()) {
            if (provider == SslProvider.OPENSSL) {
                b.option(OpenSslContextOption.GROUPS, c.curvePreferences().stream().map(ServerTls::group)
                        .toArray(String[]::new));
            } else {
                LOG.warn("TLS: curve_preferences need the OpenSSL engine; the JDK engine uses its default groups");
            }
        }
        return b.build();
    }

    private static String group(String goName) {
        return switch (goName) {
            case "CurveP256" -> "P-256";
            case "CurveP384" -> "P-384";
            case "CurveP521" -> "P-521";
            default -> goName; // X25519
        };
    }

    private static String describe(Exception e, TlsConfig c) {
        Throwable t = e;
        while (t.getCause() != null && t.getMessage() != null && t.getMessage().contains("Exception")) {
            t = t.getCause();
        }
        String msg = t.getMessage() == null ? t.toString() : t.getMessage();
        return msg + " (cert_file " + c.certFile() + ", key_file " + c.keyFile()
                + (c.caFile() == null ? "" : ", ca_file " + c.caFile()) + ")";
    }

    public TlsConfig config() {
        return config;
    }

    /** {@code OpenSSL} or {@code JDK}, for the start-up log. */
    public String providerName() {
        return provider == SslProvider.OPENSSL ? "OpenSSL (" + OpenSsl.versionString() + ")" : "JDK";
    }

    /**
     * Puts the TLS stage at the front of {@code pipeline}. Event loop of the channel. Call it after the
     * plaintext INFO was written (or before anything, for {@code handshake_first}); with
     * {@code allow_non_tls} the first byte the client sends decides between TLS and plaintext.
     */
    public void install(ChannelPipeline pipeline) {
        if (config.allowNonTls()) {
            pipeline.addFirst(HANDLER, new OptionalSslHandler(context) {
                @Override
                protected SslHandler newSslHandler(ChannelHandlerContext ctx, SslContext sslContext) {
                    return newHandler(ctx.alloc());
                }

                @Override
                protected String newSslHandlerName() {
                    return HANDLER;
                }
            });
        } else {
            pipeline.addFirst(HANDLER, newHandler(pipeline.channel().alloc()));
        }
    }

    private SslHandler newHandler(ByteBufAllocator alloc) {
        SslHandler h = context.newHandler(alloc);
        h.setHandshakeTimeoutMillis(config.timeout().toMillis());
        return h;
    }

    /**
     * True when the client's certificate is acceptable under {@code pinned_certs}: the SHA-256 of its public
     * key is listed (or nothing is pinned).
     */
    public boolean pinnedOk(SSLSession session) {
        if (config.pinnedCerts().isEmpty()) {
            return true;
        }
        X509Certificate cert = peerCertificate(session);
        if (cert == null) {
            return false;
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(cert.getPublicKey().getEncoded());
            return config.pinnedCerts().contains(HexFormat.of().formatHex(digest).toLowerCase(Locale.ROOT));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The client's leaf certificate, or null when it sent none. */
    public static X509Certificate peerCertificate(SSLSession session) {
        try {
            Certificate[] chain = session.getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof X509Certificate x ? x : null;
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }
}
