import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The Apache Kafka Java client, as a producer or consumer that is not kafkajs, for the tests
 * of what crosses the wire (run with the Kafka jars: java -cp 'libs/*' KafkaClientTool.java).
 *
 *   produce BOOTSTRAP TOPIC COMPRESSION [PROPERTY=VALUE…]
 *                                         reads "key<TAB>value[<TAB>partition]" lines from stdin
 *                                         and sends them in compressed batches (one flush at the
 *                                         end); properties override the producer's settings
 *   consume BOOTSTRAP TOPIC COUNT TIMEOUT_MS
 *                                         prints "key<TAB>value" of the first COUNT records of
 *                                         every partition from the beginning, then exits
 */
public class KafkaClientTool {
  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "produce" -> produce(args[1], args[2], args[3], java.util.Arrays.copyOfRange(args, 4, args.length));
      case "consume" -> consume(args[1], args[2], Integer.parseInt(args[3]), Long.parseLong(args[4]));
      default -> throw new IllegalArgumentException("unknown mode " + args[0]);
    }
  }

  static void produce(String bootstrap, String topic, String compression, String[] overrides)
      throws Exception {
    Properties props = new Properties();
    props.put("bootstrap.servers", bootstrap);
    props.put("compression.type", compression);
    // Large, lingering batches: many records per compressed batch, as a busy producer writes.
    props.put("linger.ms", "200");
    props.put("batch.size", "262144");
    props.put("acks", "all");
    props.put("key.serializer", StringSerializer.class.getName());
    props.put("value.serializer", StringSerializer.class.getName());
    for (String override : overrides) {
      int equals = override.indexOf('=');
      props.put(override.substring(0, equals), override.substring(equals + 1));
    }
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    int sent = 0;
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      List<java.util.concurrent.Future<?>> acks = new ArrayList<>();
      for (String line; (line = in.readLine()) != null; ) {
        if (line.isEmpty()) continue;
        String[] fields = line.split("\t", 3);
        Integer partition = fields.length > 2 ? Integer.valueOf(fields[2]) : null;
        acks.add(producer.send(new ProducerRecord<>(topic, partition, fields[0], fields[1])));
        sent++;
      }
      producer.flush();
      for (var ack : acks) ack.get();
    }
    System.out.println("sent " + sent);
  }

  static void consume(String bootstrap, String topic, int count, long timeoutMs) {
    Properties props = new Properties();
    props.put("bootstrap.servers", bootstrap);
    props.put("enable.auto.commit", "false");
    props.put("key.deserializer", StringDeserializer.class.getName());
    props.put("value.deserializer", StringDeserializer.class.getName());
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo info : consumer.partitionsFor(topic))
        partitions.add(new TopicPartition(topic, info.partition()));
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      int seen = 0;
      long deadline = System.currentTimeMillis() + timeoutMs;
      while (seen < count && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
          System.out.println(record.key() + "\t" + record.value());
          seen++;
        }
      }
    }
  }
}
