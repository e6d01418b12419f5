package io.jetkv.server.tls;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.security.auth.x500.X500Principal;

/**
 * {@code verify_and_map}: which configured user a client certificate names. Pure; any thread.
 *
 * <p>nats-server's order: the e-mail, then DNS, then URI subject alternative names, then the subject as Go
 * prints it (RFC 2253, last RDN first: {@code O=JetKV,CN=alice}); finally a configured name that is a DN
 * with the same RDNs in another order.
 */
public final class CertIdentity {
    private static final int SAN_EMAIL = 1;
    private static final int SAN_DNS = 2;
    private static final int SAN_URI = 6;
    // keywords Go prints where the JDK would print the OID
    private static final Map<String, String> GO_KEYWORDS = Map.of("2.5.4.5", "SERIALNUMBER", "2.5.4.17", "POSTALCODE");

    private CertIdentity() {}

    /** The first name that {@code isUser} accepts, or null. */
    public static String mapToUser(X509Certificate cert, Iterable<String> configuredUsers, Predicate<String> isUser) {
        if (cert == null) {
            return null;
        }
        for (String name : names(cert)) {
            if (isUser.test(name)) {
                return name;
            }
        }
        LdapName subject = parse(subject(cert));
        if (subject == null) {
            return null;
        }
        for (String user : configuredUsers) {
            LdapName dn = parse(user);
            if (dn != null && dn.size() == subject.size()
                    && new HashSet<>(dn.getRdns()).equals(new HashSet<>(subject.getRdns()))) {
                return user;
            }
        }
        return null;
    }

    /** The names tried as they are, in order: e-mail, DNS and URI SANs, then the subject. */
    static List<String> names(X509Certificate cert) {
        List<String> names = new ArrayList<>();
        for (int type : new int[] {SAN_EMAIL, SAN_DNS, SAN_URI}) {
            names.addAll(sans(cert, type));
        }
        names.add(subject(cert));
        return names;
    }

    static String subject(X509Certificate cert) {
        return cert.getSubjectX500Principal().getName(X500Principal.RFC2253, GO_KEYWORDS);
    }

    private static List<String> sans(X509Certificate cert, int type) {
        List<String> out = new ArrayList<>();
        try {
            Collection<List<?>> all = cert.getSubjectAlternativeNames();
            if (all != null) {
                for (List<?> san : all) {
                    if (san.size() >= 2 && san.get(0) instanceof Integer t && t == type
                            && san.get(1) instanceof String s) {
                        out.add(s);
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // a certificate whose SANs cannot be read maps by its subject alone
        }
        return out;
    }

    private static LdapName parse(String dn) {
        if (dn == null || !dn.contains("=")) {
            return null;
        }
        try {
            return new LdapName(dn);
        } catch (InvalidNameException | IllegalArgumentException e) {
            return null;
        }
    }
}
