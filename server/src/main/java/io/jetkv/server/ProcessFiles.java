package io.jetkv.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The pid file ({@code pid_file}, {@code -P}) and the ports file ({@code ports_file_dir}) as nats-server writes
 * them: the pid as decimal digits without a new line, kept after exit; {@code <exe>_<pid>.ports} holding one JSON
 * line of listen URLs by kind, deleted at shutdown. Called by {@link NatsServer} at start, reload and close.
 */
final class ProcessFiles {
    /** The name harnesses know the process by: {@code JETKV_EXE} (the launcher's own name), else jetkv. */
    private static final String EXE = System.getenv("JETKV_EXE") == null || System.getenv("JETKV_EXE").isBlank()
            ? "jetkv" : System.getenv("JETKV_EXE");

    private ProcessFiles() {}

    static void writePid(Path file) throws IOException {
        writeAtomically(file, Long.toString(ProcessHandle.current().pid()));
    }

    /** Writes {@code <dir>/<exe>_<pid>.ports}; {@code urls} by kind ({@code nats}, {@code monitoring}, ...). */
    static Path writePorts(Path dir, Map<String, List<String>> urls) throws IOException {
        StringBuilder sb = new StringBuilder("{");
        for (Map.Entry<String, List<String>> e : urls.entrySet()) {
            if (sb.length() > 1) {
                sb.append(',');
            }
            ServerInfo.field(sb, e.getKey()).append(":[");
            for (int i = 0; i < e.getValue().size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                ServerInfo.field(sb, e.getValue().get(i));
            }
            sb.append(']');
        }
        sb.append('}');
        Path file = dir.resolve(EXE + "_" + ProcessHandle.current().pid() + ".ports");
        writeAtomically(file, sb.toString());
        return file;
    }

    /**
     * Writes beside {@code file} and renames: a harness polling for the file never reads it empty or half written
     * (SignalsAndReloadIT once read an empty ports file between its creation and its write).
     */
    private static void writeAtomically(Path file, String text) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = dir.resolve("." + file.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        try {
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (java.nio.file.AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }

    static void delete(Path file) {
        if (file == null) {
            return;
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // nothing to do at shutdown; the next start writes a file of its own pid
        }
    }
}
