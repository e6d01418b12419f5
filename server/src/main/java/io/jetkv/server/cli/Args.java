package io.jetkv.server.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A command line split into positional arguments and flags, the way natscli's parser (fisk) reads it: flags
 * may appear anywhere, as {@code --name value}, {@code --name=value} or {@code -x value}; boolean flags take no
 * value; {@code --} ends the flags. Which flags a command accepts is checked by {@link Cli}.
 */
final class Args {
    /** A flag known to some command; {@code shortName} is 0 when there is none. */
    record Flag(String name, char shortName, boolean takesValue) {}

    private final List<String> positionals;
    private final Map<String, String> flags; // long name → value, "true" for a boolean flag

    private Args(List<String> positionals, Map<String, String> flags) {
        this.positionals = positionals;
        this.flags = flags;
    }

    static Args parse(String[] args, List<Flag> known) {
        Map<String, Flag> byLong = new HashMap<>();
        Map<Character, Flag> byShort = new HashMap<>();
        for (Flag f : known) {
            byLong.put(f.name(), f);
            if (f.shortName() != 0) {
                byShort.put(f.shortName(), f);
            }
        }
        List<String> positionals = new ArrayList<>();
        Map<String, String> flags = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--")) {
                positionals.addAll(List.of(args).subList(i + 1, args.length));
                break;
            }
            if (a.startsWith("--")) {
                int eq = a.indexOf('=');
                String name = eq < 0 ? a.substring(2) : a.substring(2, eq);
                Flag f = byLong.get(name);
                if (f == null) {
                    throw new CliException("unknown long flag '--" + name + "'");
                }
                if (!f.takesValue()) {
                    if (eq >= 0) {
                        throw new CliException("unexpected value for boolean flag '--" + name + "'");
                    }
                    flags.put(f.name(), "true");
                } else if (eq >= 0) {
                    flags.put(f.name(), a.substring(eq + 1));
                } else if (i + 1 < args.length) {
                    flags.put(f.name(), args[++i]);
                } else {
                    throw new CliException("expected argument for flag '--" + name + "'");
                }
            } else if (a.length() > 1 && a.charAt(0) == '-' && !Character.isDigit(a.charAt(1))) {
                // -f, -fn (several booleans), -s url, -surl
                for (int j = 1; j < a.length(); j++) {
                    Flag f = byShort.get(a.charAt(j));
                    if (f == null) {
                        throw new CliException("unknown short flag '-" + a.charAt(j) + "'");
                    }
                    if (!f.takesValue()) {
                        flags.put(f.name(), "true");
                        continue;
                    }
                    if (j + 1 < a.length()) {
                        flags.put(f.name(), a.substring(j + 1));
                    } else if (i + 1 < args.length) {
                        flags.put(f.name(), args[++i]);
                    } else {
                        throw new CliException("expected argument for flag '-" + a.charAt(j) + "'");
                    }
                    break;
                }
            } else {
                positionals.add(a);
            }
        }
        return new Args(positionals, flags);
    }

    List<String> positionals() {
        return positionals;
    }

    /** Long names of the flags given. */
    java.util.Set<String> flagNames() {
        return flags.keySet();
    }

    boolean has(String flag) {
        return flags.containsKey(flag);
    }

    String get(String flag, String dflt) {
        return flags.getOrDefault(flag, dflt);
    }

    long getLong(String flag, long dflt) {
        String v = flags.get(flag);
        if (v == null) {
            return dflt;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new CliException("strconv.ParseUint: parsing " + Formats.quote(v) + ": invalid syntax");
        }
    }
}
