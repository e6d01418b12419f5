import io.jetkv.jetstream.cluster.RaftTuning;
import java.io.File;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * The floor under a replicated publish: three Ratis servers in this one JVM, one group configured by JetKV's own
 * {@link RaftTuning}, a state machine that does nothing but count, and one writer submitting entries one at a time
 * to the leader (as a sync publish does), then linearizable reads at the leader and at a follower (as a KV get on a
 * replicated bucket does on the node the client is connected to).
 * Whatever a JetKV R3 round trip costs beyond these figures is JetKV's own (routes, writer, RocksDB, replies).
 *
 * <p>Prints per round: write and read latency percentiles (microseconds) and the process CPU time per operation,
 * which on a loaded machine says more than the latency does. Usage: {@code RatisFloor N ROUNDS STORAGE_DIR}.
 */
public final class RatisFloor {

    /** Counts applied entries; nothing else. */
    static final class Counter extends BaseStateMachine {
        @Override
        public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
            var entry = trx.getLogEntry();
            updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
            return CompletableFuture.completedFuture(Message.EMPTY);
        }
    }

    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        int rounds = Integer.parseInt(args[1]);
        File dir = new File(args[2]);
        List<RaftPeer> peers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            peers.add(RaftPeer.newBuilder().setId("n" + i).setAddress("127.0.0.1:" + port).build());
        }
        RaftGroup group = RaftGroup.valueOf(RaftGroupId.randomId(), peers);
        List<RaftServer> servers = new ArrayList<>();
        for (RaftPeer peer : peers) {
            RaftProperties p = new RaftProperties();
            File storage = new File(dir, peer.getId().toString());
            Files.createDirectories(storage.toPath());
            RaftServerConfigKeys.setStorageDir(p, List.of(storage));
            GrpcConfigKeys.Server.setHost(p, "127.0.0.1");
            GrpcConfigKeys.Server.setPort(p, Integer.parseInt(peer.getAddress().split(":")[1]));
            RaftTuning.apply(p, Boolean.getBoolean("sync_always"), 65_536, 30);
            RaftServer server = RaftServer.newBuilder().setServerId(peer.getId()).setGroup(group).setProperties(p)
                    .setStateMachine(new Counter()).setOption(RaftStorage.StartupOption.FORMAT).build();
            server.start();
            servers.add(server);
        }
        RaftServer leader = awaitLeader(servers, group.getGroupId());
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        ClientId client = ClientId.randomId();
        AtomicLong calls = new AtomicLong();
        byte[] payload = new byte[128];
        RaftServer follower = servers.stream().filter(s -> s != leader).findFirst().orElseThrow();
        for (int round = 1; round <= rounds; round++) {
            for (String kind : new String[] {"write", "read", "read at a follower"}) {
                boolean write = kind.equals("write");
                RaftServer target = kind.equals("read at a follower") ? follower : leader;
                long[] micros = new long[n];
                long cpu0 = os.getProcessCpuTime();
                for (int i = 0; i < n; i++) {
                    long t0 = System.nanoTime();
                    RaftClientRequest req = RaftClientRequest.newBuilder().setClientId(client)
                            .setServerId(target.getId()).setGroupId(group.getGroupId())
                            .setCallId(calls.incrementAndGet())
                            .setMessage(Message.valueOf(ByteString.copyFrom(write ? payload : new byte[0])))
                            .setType(write ? RaftClientRequest.writeRequestType()
                                    : RaftClientRequest.readRequestType())
                            .build();
                    RaftClientReply reply = target.submitClientRequestAsync(req).get();
                    if (!reply.isSuccess()) {
                        throw new IllegalStateException(String.valueOf(reply.getException()));
                    }
                    micros[i] = (System.nanoTime() - t0) / 1000;
                }
                long cpuPerOp = (os.getProcessCpuTime() - cpu0) / 1000 / n;
                Arrays.sort(micros);
                System.out.printf("round %d %s: p50 %d us, p90 %d us, p99 %d us, cpu %d us/op%n", round, kind,
                        micros[n / 2], micros[n * 9 / 10], micros[n * 99 / 100], cpuPerOp);
            }
        }
        for (RaftServer s : servers) {
            s.close();
        }
        System.exit(0);
    }

    private static RaftServer awaitLeader(List<RaftServer> servers, RaftGroupId gid) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            for (RaftServer s : servers) {
                if (s.getDivision(gid).getInfo().isLeaderReady()) {
                    return s;
                }
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("no leader within 60 s");
    }
}
