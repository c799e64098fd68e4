// The Kotlin bindings across the FFI boundary: every exported method and record, every error variant, suspend
// calls, and one engine used from 8 threads at once. The Rust logic is tested in Rust; these tests check that
// values, errors and threads cross the boundary intact. Run by scripts/bindings.sh test; prints one line per
// test and "N passed, N failed"; exits 1 on any failure.
package org.haven.tests

import java.io.File
import java.nio.file.Files
import java.util.concurrent.CyclicBarrier
import java.util.concurrent.atomic.AtomicInteger
import kotlin.concurrent.thread
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import org.haven.*

val root: File = File(System.getProperty("user.dir"))
val images = File(root, "fixtures/images")
val havenBin: String = System.getenv("HAVEN_BIN") ?: File(root, "target/debug/haven").path
const val SECRET = "secret-7f3a"

fun profile(name: String = "Mia", tier: AgeTier = AgeTier.AGE9_TO12) = Profile(name = name, tier = tier)

fun cli(vararg args: String) {
    val process = ProcessBuilder(havenBin, *args).redirectErrorStream(true).start()
    val output = process.inputStream.bufferedReader().readText()
    check(process.waitFor() == 0) { "haven ${args.joinToString(" ")}: $output" }
}

/** A lists directory with a URL list and a PDQ hash list holding one generated benign image's hash. */
fun listsDir(noise: ByteArray): File {
    val base = Files.createTempDirectory("haven-kotlin").toFile()
    val dir = File(base, "lists").apply { mkdir() }
    Haven(HavenConfig(), profile()).use { haven ->
        File(base, "pdq.txt").writeText("# id: test-pdq\n# version: 7\n# provenance: kotlin tests\n${haven.pdqHash(noise).hex}\n")
    }
    cli("lists", "compile", "--type", "pdq", File(base, "pdq.txt").path, "-o", File(dir, "test.hvh").path)
    File(base, "urls.txt").writeText("# id: test-games\n# category: gambling\n# version: 3\n# format: domains\nhaven-test-casino.example\n")
    cli("lists", "compile", File(base, "urls.txt").path, "-o", File(dir, "games.hvl").path)
    return dir
}

inline fun <reified E : Throwable> assertThrows(block: () -> Unit): E {
    try {
        block()
    } catch (e: Throwable) {
        if (e is E) return e
        throw AssertionError("expected ${E::class.simpleName}, got $e")
    }
    throw AssertionError("expected ${E::class.simpleName}, nothing thrown")
}

fun main() {
    val noise = File(images, "noise-97x131.png").readBytes()
    val checker = File(images, "checker-224.png").readBytes()
    val lists = listsDir(noise)
    val withLists = HavenConfig(listsDir = lists.path)
    val tests = linkedMapOf<String, () -> Unit>()

    tests["records and enums cross the boundary"] = {
        Haven(HavenConfig(), profile()).use { haven ->
            val verdict = haven.checkUrl("https://www.bet365.com/")
            check(verdict.action == Action.BLOCK && verdict.reason == "gambling")
            check(verdict.categories.map { it.category to it.action } == listOf("gambling" to Action.BLOCK))
            val evidence = verdict.evidence.first()
            check(evidence.engine == "url" && evidence.sourceId == "gambling" && evidence.rule!!.contains("bet365.com"))
            val message = verdict.message!!
            check(message.language == "en" && !message.rightToLeft && message.title.isNotEmpty() && message.easyReadBody.isNotEmpty())
            val allowed = haven.checkUrl("https://www.bbc.co.uk/news")
            check(allowed.action == Action.ALLOW && allowed.message == null && allowed.categories.isEmpty())
            check(haven.checkUrl("https://www.google.com/search?q=cats").redirect!!.contains("safe=active"))
        }
    }
    tests["text checks, spans in UTF-8 bytes, help, right to left"] = {
        Haven(HavenConfig(), profile()).use { haven ->
            val text = "héllo, you are a l0ser"
            val verdict = haven.checkText(text, Direction.INCOMING, null)
            check(verdict.action == Action.BLOCK)
            val span = verdict.evidence.first { it.spanStart != null }
            val bytes = text.toByteArray(Charsets.UTF_8)
            check(String(bytes.copyOfRange(span.spanStart!!.toInt(), span.spanEnd!!.toInt()), Charsets.UTF_8) == "you are a l0ser")
            val pii = haven.checkText("my phone number is 07700 900123", Direction.OUTGOING, "en")
            check(pii.categories.any { it.category == "personal_info" })
            val selfHarm = haven.checkText("i want to kill myself", Direction.OUTGOING, null)
            check(selfHarm.offerHelp && selfHarm.help!!.text.isNotEmpty())
            haven.setProfile(Profile(name = "Mia", tier = AgeTier.AGE9_TO12, language = "ar"))
            val arabic = haven.checkText("انت غبي", Direction.INCOMING, null)
            check(arabic.message!!.language == "ar" && arabic.message!!.rightToLeft)
        }
    }
    tests["conversation and mask"] = {
        Haven(HavenConfig(), profile()).use { haven ->
            val verdict = haven.checkConversation(
                listOf(
                    ChatMessage(Direction.INCOMING, "hi, how was school?", 100uL),
                    ChatMessage(Direction.INCOMING, "you are such a loser", 160uL),
                ),
                "en",
            )
            check(verdict.action == Action.BLOCK)
            check(verdict.evidence.filter { it.engine == "text" }.map { it.messageIndex }.toSet() == setOf(1uL))
            check(haven.maskText("tu es un connard", Direction.INCOMING, "fr") == "tu es un *******")
        }
    }
    tests["images: check, PDQ, match, reload"] = {
        Haven(withLists, profile()).use { haven ->
            val pdq = haven.pdqHash(noise)
            check(Regex("[0-9a-f]{64}").matches(pdq.hex) && pdq.quality.toInt() == 100)
            val matches = haven.matchImage(noise)
            check(matches.map { listOf(it.listId, it.listVersion, it.kind, it.entry, it.distance) } == listOf(listOf("test-pdq", "7", "pdq", 0u, 0u)))
            check(haven.checkImage(noise).reason == "known_abuse")
            check(haven.matchImage(checker).isEmpty() && haven.checkImage(checker).action == Action.ALLOW)
            check(haven.checkUrl("https://haven-test-casino.example/").action == Action.BLOCK)
            haven.reload()
            check(haven.checkUrl("https://haven-test-casino.example/").action == Action.BLOCK)
        }
    }
    tests["suspend functions"] = {
        Haven(withLists, profile()).use { haven ->
            runBlocking {
                val verdict = async { haven.checkImageAsync(noise) }
                val matches = async { haven.matchImageAsync(noise) }
                check(verdict.await().action == Action.BLOCK && matches.await().single().listId == "test-pdq")
                assertThrows<HavenException.InvalidInput> { runBlocking { haven.checkImageAsync(SECRET.toByteArray()) } }
            }
        }
    }
    tests["profile round trip"] = {
        Haven(HavenConfig(), profile()).use { haven ->
            haven.setProfile(
                Profile("Leo", AgeTier.UNDER9, "fr-CA", "ca", listOf("www.Example.org"), listOf("games.example.com"), true)
            )
            val got = haven.profile()
            check(got == Profile("Leo", AgeTier.UNDER9, "fr", "CA", listOf("www.example.org"), listOf("games.example.com"), true))
            val verdict = haven.checkUrl("https://news.example.net/")
            check(verdict.reason == "not_in_allowlist" && verdict.message!!.language == "fr")
        }
    }
    tests["InvalidInput, without the content"] = {
        Haven(withLists, profile()).use { haven ->
            val calls = listOf<() -> Unit>(
                { haven.checkUrl("http://[$SECRET]/") },
                { haven.checkText(SECRET.repeat(200_000), Direction.INCOMING, null) },
                { haven.checkText(SECRET, Direction.INCOMING, "tlh") },
                { haven.checkImage(SECRET.toByteArray()) },
                { haven.pdqHash(SECRET.toByteArray()) },
                { haven.setProfile(Profile(name = "x", tier = AgeTier.ADULT, country = SECRET)) },
                { haven.setProfile(Profile(name = "x", tier = AgeTier.ADULT, allowDomains = listOf("$SECRET bad"))) },
            )
            for (call in calls) {
                val e = assertThrows<HavenException.InvalidInput>(call)
                check(!e.message!!.contains(SECRET)) { "error repeats the input: ${e.message}" }
                check(e is HavenException)
            }
        }
    }
    tests["ModelUnavailable"] = {
        val empty = Files.createTempDirectory("haven-models").toFile()
        assertThrows<HavenException.ModelUnavailable> {
            Haven(HavenConfig(imageModel = "nsfwjs-mobilenet-v2", modelsDir = empty.path, ortLibrary = File(empty, "libonnxruntime.so").path), profile())
        }
        assertThrows<HavenException.ModelUnavailable> { Haven(HavenConfig(imageModel = "no-such-model"), profile()) }
    }
    tests["ListError keeps the old lists; Internal"] = {
        val bad = Files.createTempDirectory("haven-bad").toFile()
        File(bad, "broken.hvl").writeBytes("HVL not really a list".toByteArray())
        val e = assertThrows<HavenException.ListException> { Haven(HavenConfig(listsDir = bad.path), profile()) }
        check(e.message!!.contains("broken.hvl"))
        val good = Files.createTempDirectory("haven-good").toFile()
        File(lists, "games.hvl").copyTo(File(good, "games.hvl"))
        Haven(HavenConfig(listsDir = good.path), profile()).use { haven ->
            File(good, "z.hvh").writeBytes(File(lists, "test.hvh").readBytes().copyOf(40))
            assertThrows<HavenException.ListException> { haven.reload() }
            check(haven.checkUrl("https://haven-test-casino.example/").action == Action.BLOCK)
        }
        val file = File.createTempFile("haven", ".txt")
        val internal = assertThrows<HavenException.Internal> { Haven(HavenConfig(listsDir = file.path), profile()) }
        check(internal.message!!.contains("lists directory"))
    }
    tests["one engine from 8 threads"] = {
        Haven(withLists, profile()).use { haven ->
            val barrier = CyclicBarrier(8)
            val failures = AtomicInteger()
            val threads = (0 until 8).map { i ->
                thread {
                    try {
                        barrier.await()
                        repeat(25) { j ->
                            check(haven.checkUrl("https://www.bet365.com/").action == Action.BLOCK)
                            check(haven.checkText("message $i $j you idiot", Direction.INCOMING, null).action != Action.ALLOW)
                            check(haven.maskText("hello", Direction.INCOMING, null) == "hello")
                            if (j % 5 == 0) {
                                check(haven.matchImage(noise).single().listId == "test-pdq")
                                haven.setProfile(profile(name = "child-$i"))
                            }
                            if (i == 0 && j % 10 == 0) haven.reload()
                        }
                    } catch (e: Throwable) {
                        System.err.println("thread $i: $e")
                        failures.incrementAndGet()
                    }
                }
            }
            threads.forEach { it.join() }
            check(failures.get() == 0)
            check(haven.profile().name.startsWith("child-"))
        }
    }
    tests["the README's Kotlin example is this one, and runs"] = {
        val readme = File(root, "README.md").readText()
        val block = Regex("<!-- kotlin-example -->\\s*```kotlin\\n(.*?)```", RegexOption.DOT_MATCHES_ALL).find(readme)
            ?: throw AssertionError("the README's Kotlin example is missing")
        val source = File(root, "bindings/kotlin/src/ReadmeExample.kt").readText().substringAfter("\n\n")
        check(block.groupValues[1] == source) { "README example differs from bindings/kotlin/src/ReadmeExample.kt" }
        readmeExample()
    }

    var passed = 0
    var failed = 0
    for ((name, test) in tests) {
        try {
            test()
            passed++
            println("ok   $name")
        } catch (e: Throwable) {
            failed++
            println("FAIL $name: $e")
        }
    }
    println("$passed passed, $failed failed")
    if (failed > 0) kotlin.system.exitProcess(1)
}
