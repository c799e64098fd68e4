package org.haven.tests

import org.haven.*

fun readmeExample() {
    val child = Profile(name = "Mia", tier = AgeTier.AGE9_TO12, language = "fr")
    Haven(HavenConfig(), child).use { haven ->
        val verdict = haven.checkUrl("https://www.bet365.com/")
        check(verdict.action == Action.BLOCK)
        println(verdict.message?.title) // in French, for a 9-12 year old
        println(haven.maskText("tu es un connard", Direction.INCOMING, null))
        try { haven.checkUrl("http://[oops]/") } catch (e: HavenException.InvalidInput) { println("not a URL: ${e.message}") }
    }
}
