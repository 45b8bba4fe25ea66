// Read an iCalendar file (path in argv[2]) with Mozilla's ical.js and print what the tests check, as JSON.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const text = readFileSync(process.argv[2], "utf8");
const root = new ICAL.Component(ICAL.parse(text));
const vevents = root.getAllSubcomponents("vevent");
const timezones = root.getAllSubcomponents("vtimezone").map((tz) => tz.getFirstPropertyValue("tzid"));
for (const tz of root.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(tz);
}
const prop = (name) => {
  const p = root.getFirstProperty(name);
  return p ? String(p.getFirstValue()) : null;
};
const events = vevents.map((component) => {
  const event = new ICAL.Event(component);
  const dtstart = component.getFirstProperty("dtstart");
  const dtend = component.getFirstProperty("dtend");
  return {
    uid: event.uid,
    summary: event.summary,
    location: event.location,
    description: event.description,
    status: component.getFirstPropertyValue("status"),
    sequence: event.sequence,
    dtstamp: component.getFirstPropertyValue("dtstamp") ? component.getFirstPropertyValue("dtstamp").toJSDate().toISOString() : null,
    start: event.startDate.toJSDate().toISOString(),
    end: event.endDate.toJSDate().toISOString(),
    start_tzid: dtstart ? dtstart.getParameter("tzid") : null,
    end_tzid: dtend ? dtend.getParameter("tzid") : null,
    start_local: event.startDate.toString(),
  };
});
process.stdout.write(
  JSON.stringify({
    name: prop("x-wr-calname"),
    rfc7986_name: prop("name"),
    refresh: prop("refresh-interval"),
    ttl: prop("x-published-ttl"),
    timezones,
    events,
  }),
);
