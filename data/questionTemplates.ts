/**
 * The question templates of the demo dataset: what a finance or project controller asks about the demo
 * general-ledger database (data/schema.sql), each with gold SQL written in ONE canonical style.
 *
 * A template is a question *kind* with slots ("{status} projects with budget over {threshold}"); filling
 * its slots with values drawn from the seeded database gives an *intent* (one question meaning); each
 * intent is asked in several phrasings (terse, conversational, with typos or abbreviations).
 * data/buildDataset.ts expands the templates into data/dataset/*.jsonl.
 *
 * Placeholders: `{slot}` is the slot value's `value` field in SQL and evidence, its `text` field (else
 * `value`) in questions; `{slot.key}` is any other field of the value (e.g. `{manager.first}`). Slot
 * names map to value pools (SlotPool) that buildDataset.ts reads from the database.
 *
 * Canonical gold SQL style (a tiny model learns it by heart, so it never varies):
 * - one line, no trailing semicolon; SQL keywords and function names in upper case, identifiers lower case;
 * - a single-table query uses bare column names; a multi-table query aliases every table with its fixed
 *   alias: companies co, departments d, employees e (a second one m), customers c, projects p,
 *   project_assignments pa, gl_accounts a, fiscal_periods fp, journal_entries je, journal_lines jl,
 *   invoices i, payments pm, vendors v, vendor_bills vb, budgets b, timesheets t;
 * - joins are `JOIN x ON x.key = y.key` (the joined table's key first); computed columns get `AS name`;
 * - years are filtered with `EXTRACT(YEAR FROM col) = 2024`, booleans compared with `= true` / `= false`;
 * - the report date is the literal DATE '2025-09-30' (the data's "today"), never CURRENT_DATE;
 * - financial totals over journal_lines join journal_entries and keep `je.posted = true`;
 * - set operations use UNION only (pgsql-ast-parser cannot parse INTERSECT / EXCEPT).
 */

import type { Difficulty } from "./loadDataset.js";

/** Value pools buildDataset.ts fills from the seeded database (or from fixed lists where noted). */
export type SlotPool =
  | "projectStatus" // planned | active | on_hold | completed | cancelled (text: "on hold")
  | "budgetThreshold" // fixed: 50000 … 1000000
  | "customer" // customers with at least one invoice
  | "country" // customer countries
  | "industry" // customer industries
  | "project" // project codes with posted expense lines and timesheets
  | "department" // distinct department names
  | "company" // company names
  | "year" // 2023 | 2024 | 2025
  | "hireYear" // years with hires
  | "month" // 1 … 9 (months of 2025 with data) — paired with year 2025 or 2024
  | "expenseAccount" // expense account names with posted lines
  | "account" // any account name with posted lines
  | "accountType" // asset | liability | equity | revenue | expense
  | "invoiceStatus" // draft | sent | paid | overdue | void
  | "billStatus" // open | paid | overdue | void
  | "employeeStatus" // active | on_leave | terminated (text: "on leave")
  | "title" // employee titles
  | "vendor" // vendors with bills
  | "vendorCategory" // vendor categories
  | "topN" // fixed: 3 | 5 | 10
  | "minProjects" // fixed: 1 | 2 | 3
  | "creditThreshold" // fixed credit limits
  | "billThreshold" // fixed bill amounts
  | "salaryThreshold" // fixed average salaries
  | "spendPct" // fixed: 50 | 80 | 100
  | "paymentMethod" // bank_transfer | card | check | cash
  | "entrySource" // manual | ap | ar | payroll
  | "days" // fixed: 30 | 60 | 90 | 180
  | "tenureYears" // fixed: 3 | 5 | 8 | 10
  | "manager" // employees who manage others: {manager.first} {manager.last}
  | "employee"; // employees with timesheets: {employee.first} {employee.last}

export interface QuestionTemplate {
  /** Stable id (snake_case); item ids start with it. */
  id: string;
  difficulty: Difficulty;
  /** Tables the gold SQL reads, sorted. */
  tables: string[];
  /** slot name → pool. A template without slots has exactly one intent. */
  slots: Record<string, SlotPool>;
  /** Gold SQL with placeholders (canonical style, see the file comment). */
  sql: string;
  /** Business definitions the question relies on ("" when none). */
  evidence: string;
  /** ≥ 2 phrasings with placeholders: terse, conversational, typos/abbreviations. */
  phrasings: string[];
  /** The answer is empty by design (the question asks for something that does not exist). */
  expectEmpty?: boolean;
  /** Template reserved for test_unseen: it occurs in no other split. */
  unseen?: boolean;
  /** Slot values that must be among the intents (value fields), e.g. the README's example question. */
  pinned?: Record<string, string>[];
}

const POSTED = "only posted journal entries count (journal_entries.posted = true)";
const ACTUALS = "actual spend = posted journal lines on expense accounts, debit - credit";
const REVENUE = "revenue = invoice amounts with status not in ('draft', 'void')";
const OVERDUE = "overdue means due_date < the report date 2025-09-30 and status not in ('paid', 'void')";
const UTILISATION = "utilisation = billable hours / all hours logged";

/** The templates, simple first. */
export const questionTemplates: QuestionTemplate[] = [
  // ─── simple: one table, a filter, a count or a top-N ──────────────────────────────────────────
  {
    id: "projects_status_budget_over",
    difficulty: "simple",
    tables: ["projects"],
    slots: { status: "projectStatus", threshold: "budgetThreshold" },
    sql: "SELECT project_code, name, budget FROM projects WHERE status = '{status}' AND budget > {threshold}",
    evidence: "{status.text} projects have status = '{status}'",
    phrasings: [
      "Show all {status} projects with budget over {threshold}",
      "Which {status} projects have a budget above {threshold}?",
      "{status} projects budget > {threshold}",
      "list {status} projcts w/ budget more than {threshold}",
    ],
    pinned: [{ status: "active", threshold: "100000" }],
  },
  {
    id: "count_projects_by_status",
    difficulty: "simple",
    tables: ["projects"],
    slots: { status: "projectStatus" },
    sql: "SELECT COUNT(*) FROM projects WHERE status = '{status}'",
    evidence: "",
    phrasings: [
      "How many projects are {status}?",
      "count of {status} projects",
      "number of projects w/ status {status}",
      "how many {status} projcts do we have",
    ],
  },
  {
    id: "customers_in_country",
    difficulty: "simple",
    tables: ["customers"],
    slots: { country: "country" },
    sql: "SELECT name FROM customers WHERE country = '{country}'",
    evidence: "",
    phrasings: [
      "Which customers are based in {country}?",
      "customers in {country}",
      "list all clients located in {country}",
      "custmers from {country}",
    ],
  },
  {
    id: "customers_in_industry",
    difficulty: "simple",
    tables: ["customers"],
    slots: { industry: "industry" },
    sql: "SELECT name, country FROM customers WHERE industry = '{industry}'",
    evidence: "",
    phrasings: [
      "List the customers in the {industry} industry and their country",
      "{industry} customers with country",
      "which of our clients are in {industry}? show the country too",
    ],
  },
  {
    id: "employees_with_title",
    difficulty: "simple",
    tables: ["employees"],
    slots: { title: "title" },
    sql: "SELECT first_name, last_name FROM employees WHERE title = '{title}'",
    evidence: "",
    phrasings: [
      "Who works as {title}?",
      "names of all employees with title {title}",
      "list every {title}",
      "employes with the job title {title}",
    ],
  },
  {
    id: "count_employees_by_status",
    difficulty: "simple",
    tables: ["employees"],
    slots: { status: "employeeStatus" },
    sql: "SELECT COUNT(*) FROM employees WHERE status = '{status}'",
    evidence: "",
    phrasings: [
      "How many employees are {status}?",
      "count employees {status}",
      "number of staff currently {status}",
      "how many ppl are {status}",
    ],
  },
  {
    id: "invoices_by_status_totals",
    difficulty: "simple",
    tables: ["invoices"],
    slots: { status: "invoiceStatus" },
    sql: "SELECT COUNT(*), SUM(amount) FROM invoices WHERE status = '{status}'",
    evidence: "",
    phrasings: [
      "How many invoices are {status} and what is their total amount?",
      "count and total of {status} invoices",
      "{status} invoices: number and sum",
      "how many invoices r {status}, total amt?",
    ],
  },
  {
    id: "vendors_in_category",
    difficulty: "simple",
    tables: ["vendors"],
    slots: { category: "vendorCategory" },
    sql: "SELECT name FROM vendors WHERE category = '{category}'",
    evidence: "",
    phrasings: [
      "Which vendors supply {category}?",
      "vendors in category {category}",
      "list our {category} suppliers",
      "vendrs for {category}",
    ],
  },
  {
    id: "accounts_of_type",
    difficulty: "simple",
    tables: ["gl_accounts"],
    slots: { type: "accountType" },
    sql: "SELECT account_number, name FROM gl_accounts WHERE account_type = '{type}' ORDER BY account_number",
    evidence: "",
    phrasings: [
      "List the {type} accounts in the chart of accounts by account number",
      "{type} accounts sorted by number",
      "show me all GL accounts of type {type}, ordered by number",
      "coa {type} accts by number",
    ],
  },
  {
    id: "projects_started_in_year",
    difficulty: "simple",
    tables: ["projects"],
    slots: { year: "year" },
    sql: "SELECT project_code, name FROM projects WHERE EXTRACT(YEAR FROM start_date) = {year}",
    evidence: "",
    phrasings: [
      "Which projects started in {year}?",
      "projects with a start date in {year}",
      "list projects kicked off during {year}",
      "projs started {year}",
    ],
  },
  {
    id: "employees_hired_in_year",
    difficulty: "simple",
    tables: ["employees"],
    slots: { year: "hireYear" },
    sql: "SELECT COUNT(*) FROM employees WHERE EXTRACT(YEAR FROM hire_date) = {year}",
    evidence: "",
    phrasings: [
      "How many employees were hired in {year}?",
      "number of hires in {year}",
      "headcount hired during {year}",
      "how many ppl did we hire in {year}",
    ],
  },
  {
    id: "closed_periods_in_year",
    difficulty: "simple",
    tables: ["fiscal_periods"],
    slots: { year: "year" },
    sql: "SELECT COUNT(*) FROM fiscal_periods WHERE fiscal_year = {year} AND is_closed = true",
    evidence: "",
    phrasings: [
      "How many periods of fiscal year {year} are closed?",
      "closed periods in FY{year}",
      "count closed fiscal periods for {year}",
      "how many months of {year} have been closed",
    ],
  },
  {
    id: "open_periods",
    difficulty: "simple",
    tables: ["fiscal_periods"],
    slots: {},
    sql: "SELECT fiscal_year, period_number FROM fiscal_periods WHERE is_closed = false ORDER BY fiscal_year, period_number",
    evidence: "",
    phrasings: [
      "Which fiscal periods are still open?",
      "open periods",
      "list periods not closed yet, in order",
      "what periods havent been closed",
    ],
  },
  {
    id: "vendor_bills_status_over_amount",
    difficulty: "simple",
    tables: ["vendor_bills"],
    slots: { status: "billStatus", threshold: "billThreshold" },
    sql: "SELECT bill_number, amount FROM vendor_bills WHERE status = '{status}' AND amount > {threshold}",
    evidence: "",
    phrasings: [
      "Which {status} vendor bills are over {threshold}?",
      "{status} bills above {threshold}",
      "show {status} supplier bills with amount > {threshold}",
      "{status} vendor bils over {threshold}",
    ],
  },
  {
    id: "projects_without_budget",
    difficulty: "simple",
    tables: ["projects"],
    slots: {},
    sql: "SELECT project_code, name FROM projects WHERE budget IS NULL",
    evidence: "a project without an approved budget has budget NULL",
    phrasings: [
      "Which projects have no approved budget?",
      "projects with budget missing",
      "list projects where the budget is not approved yet",
      "projcts w/o budget",
    ],
  },
  {
    id: "internal_projects_by_status",
    difficulty: "simple",
    tables: ["projects"],
    slots: { status: "projectStatus" },
    sql: "SELECT project_code, name FROM projects WHERE customer_id IS NULL AND status = '{status}'",
    evidence: "an internal project has no customer (customer_id IS NULL)",
    phrasings: [
      "Which internal projects are {status}?",
      "{status} internal projects",
      "list {status} projects that have no customer",
    ],
  },
  {
    id: "inactive_accounts",
    difficulty: "simple",
    tables: ["gl_accounts"],
    slots: {},
    sql: "SELECT account_number, name FROM gl_accounts WHERE is_active = false",
    evidence: "",
    phrasings: [
      "Which GL accounts are inactive?",
      "inactive accounts",
      "list the accounts that are no longer active",
      "deactivated accts in the chart of accounts",
    ],
  },
  {
    id: "top_projects_by_budget",
    difficulty: "simple",
    tables: ["projects"],
    slots: { n: "topN" },
    sql: "SELECT project_code, name, budget FROM projects WHERE budget IS NOT NULL ORDER BY budget DESC LIMIT {n}",
    evidence: "",
    phrasings: [
      "What are the {n} projects with the largest budget?",
      "top {n} projects by budget",
      "show the {n} biggest project budgets",
      "top{n} projs by budget",
    ],
  },
  {
    id: "customers_credit_limit_over",
    difficulty: "simple",
    tables: ["customers"],
    slots: { threshold: "creditThreshold" },
    sql: "SELECT name, credit_limit FROM customers WHERE credit_limit > {threshold}",
    evidence: "",
    phrasings: [
      "Which customers have a credit limit above {threshold}?",
      "customers credit limit > {threshold}",
      "list clients with credit limit over {threshold}",
      "custs w/ credit lim over {threshold}",
    ],
  },
  {
    id: "payments_by_method",
    difficulty: "simple",
    tables: ["payments"],
    slots: { method: "paymentMethod" },
    sql: "SELECT COUNT(*), SUM(amount) FROM payments WHERE method = '{method}'",
    evidence: "",
    phrasings: [
      "How many payments were made by {method} and for how much in total?",
      "count and total of {method} payments",
      "payments via {method}: number and sum",
    ],
    unseen: true,
  },
  {
    id: "largest_invoices",
    difficulty: "simple",
    tables: ["invoices"],
    slots: { n: "topN" },
    sql: "SELECT invoice_number, amount FROM invoices ORDER BY amount DESC LIMIT {n}",
    evidence: "",
    phrasings: [
      "What are the {n} largest invoices?",
      "top {n} invoices by amount",
      "show me the {n} biggest invoices we issued",
      "{n} largest invoces",
    ],
  },
  {
    id: "payments_in_month",
    difficulty: "simple",
    tables: ["payments"],
    slots: { year: "year", month: "month" },
    sql: "SELECT SUM(amount) FROM payments WHERE EXTRACT(YEAR FROM payment_date) = {year} AND EXTRACT(MONTH FROM payment_date) = {month}",
    evidence: "",
    phrasings: [
      "How much did customers pay us in {month.name} {year}?",
      "total payments received {month.name} {year}",
      "cash received in month {month} of {year}",
      "payments recvd {month.short} {year}",
    ],
  },
  {
    id: "bills_due_within_days",
    difficulty: "simple",
    tables: ["vendor_bills"],
    slots: { days: "days" },
    sql: "SELECT bill_number, due_date, amount FROM vendor_bills WHERE status = 'open' AND due_date <= DATE '2025-09-30' + {days}",
    evidence: "the report date is 2025-09-30",
    phrasings: [
      "Which open vendor bills fall due within {days} days of the report date?",
      "open bills due in the next {days} days",
      "what supplier bills do we have to pay in the next {days} days",
      "bills due next {days}d",
    ],
  },
  {
    id: "future_posted_entries",
    difficulty: "simple",
    tables: ["journal_entries"],
    slots: {},
    sql: "SELECT entry_id FROM journal_entries WHERE posted = true AND entry_date > DATE '2025-09-30'",
    evidence: "the report date is 2025-09-30",
    phrasings: [
      "Are there any posted journal entries dated after the report date?",
      "posted entries after 2025-09-30",
      "list posted JEs with a date later than the report date",
    ],
    expectEmpty: true,
  },

  // ─── moderate: joins, grouping, HAVING, subqueries, UNION ─────────────────────────────────────
  {
    id: "projects_of_customer",
    difficulty: "moderate",
    tables: ["customers", "projects"],
    slots: { customer: "customer" },
    sql: "SELECT p.project_code, p.name, p.status FROM projects p JOIN customers c ON c.customer_id = p.customer_id WHERE c.name = '{customer}'",
    evidence: "",
    phrasings: [
      "Which projects do we run for {customer}, and what is their status?",
      "{customer} projects with status",
      "list all projects of customer {customer}",
      "projs for {customer} + status",
    ],
  },
  {
    id: "headcount_by_department_of_company",
    difficulty: "moderate",
    tables: ["companies", "departments", "employees"],
    slots: { company: "company" },
    sql: "SELECT d.name, COUNT(*) AS headcount FROM employees e JOIN departments d ON d.department_id = e.department_id JOIN companies co ON co.company_id = d.company_id WHERE co.name = '{company}' AND e.status = 'active' GROUP BY d.name",
    evidence: "headcount counts active employees (status = 'active')",
    phrasings: [
      "What is the headcount per department at {company}?",
      "{company} headcount by department",
      "how many active employees does each department of {company} have",
      "headcnt per dept {company}",
    ],
  },
  {
    id: "headcount_of_department",
    difficulty: "moderate",
    tables: ["departments", "employees"],
    slots: { department: "department" },
    sql: "SELECT COUNT(*) FROM employees e JOIN departments d ON d.department_id = e.department_id WHERE d.name = '{department}' AND e.status = 'active'",
    evidence: "headcount counts active employees (status = 'active')",
    phrasings: [
      "What is the headcount of {department} across the group?",
      "{department} headcount",
      "how many active people work in {department} departments",
      "headcount {department} all companies",
    ],
  },
  {
    id: "revenue_by_customer_in_year",
    difficulty: "moderate",
    tables: ["customers", "invoices"],
    slots: { year: "year" },
    sql: "SELECT c.name, SUM(i.amount) AS revenue FROM invoices i JOIN customers c ON c.customer_id = i.customer_id WHERE i.status NOT IN ('draft', 'void') AND EXTRACT(YEAR FROM i.issue_date) = {year} GROUP BY c.name ORDER BY revenue DESC",
    evidence: REVENUE,
    phrasings: [
      "What was the revenue per customer in {year}, highest first?",
      "revenue by customer {year}",
      "how much did we invoice each client in {year}? sort descending",
      "rev per cust {year} desc",
    ],
  },
  {
    id: "revenue_of_customer_by_quarter",
    difficulty: "moderate",
    tables: ["customers", "invoices"],
    slots: { customer: "customer", year: "year" },
    sql: "SELECT EXTRACT(QUARTER FROM i.issue_date) AS quarter, SUM(i.amount) AS revenue FROM invoices i JOIN customers c ON c.customer_id = i.customer_id WHERE c.name = '{customer}' AND i.status NOT IN ('draft', 'void') AND EXTRACT(YEAR FROM i.issue_date) = {year} GROUP BY quarter ORDER BY quarter",
    evidence: REVENUE,
    phrasings: [
      "Show {customer}'s revenue by quarter for {year}",
      "quarterly revenue {customer} {year}",
      "how much revenue did {customer} bring in each quarter of {year}?",
      "rev by qtr for {customer} in {year}",
    ],
  },
  {
    id: "total_invoiced_customer",
    difficulty: "moderate",
    tables: ["customers", "invoices"],
    slots: { customer: "customer" },
    sql: "SELECT SUM(i.amount) FROM invoices i JOIN customers c ON c.customer_id = i.customer_id WHERE c.name = '{customer}' AND i.status NOT IN ('draft', 'void')",
    evidence: REVENUE,
    phrasings: [
      "What is the total revenue from {customer}?",
      "total invoiced to {customer}",
      "how much have we billed {customer} overall",
      "{customer} total rev",
    ],
  },
  {
    id: "overdue_invoices_of_customer",
    difficulty: "moderate",
    tables: ["customers", "invoices"],
    slots: { customer: "customer" },
    sql: "SELECT i.invoice_number, i.due_date, i.amount FROM invoices i JOIN customers c ON c.customer_id = i.customer_id WHERE c.name = '{customer}' AND i.due_date < DATE '2025-09-30' AND i.status NOT IN ('paid', 'void')",
    evidence: OVERDUE,
    phrasings: [
      "Which invoices of {customer} are overdue?",
      "overdue invoices {customer}",
      "does {customer} owe us anything past due? list the invoices",
      "{customer} overdue invs",
    ],
  },
  {
    id: "top_overdue_customers",
    difficulty: "moderate",
    tables: ["customers", "invoices"],
    slots: { n: "topN" },
    sql: "SELECT c.name, SUM(i.amount) AS overdue_amount FROM invoices i JOIN customers c ON c.customer_id = i.customer_id WHERE i.due_date < DATE '2025-09-30' AND i.status NOT IN ('paid', 'void') GROUP BY c.name ORDER BY overdue_amount DESC LIMIT {n}",
    evidence: OVERDUE,
    phrasings: [
      "Which {n} customers owe us the most in overdue invoices?",
      "top {n} customers by overdue amount",
      "biggest {n} overdue receivables by customer",
      "top{n} custs overdue AR",
    ],
  },
  {
    id: "billable_hours_per_employee_on_project",
    difficulty: "moderate",
    tables: ["employees", "projects", "timesheets"],
    slots: { project: "project" },
    sql: "SELECT e.first_name, e.last_name, SUM(t.hours) AS billable_hours FROM timesheets t JOIN employees e ON e.employee_id = t.employee_id JOIN projects p ON p.project_id = t.project_id WHERE p.project_code = '{project}' AND t.billable = true GROUP BY e.employee_id",
    evidence: "",
    phrasings: [
      "How many billable hours has each employee logged on {project}?",
      "billable hours per employee on {project}",
      "who booked billable time to {project} and how much",
      "{project} billable hrs by person",
    ],
  },
  {
    id: "hours_on_project_in_year",
    difficulty: "moderate",
    tables: ["projects", "timesheets"],
    slots: { project: "project", year: "year" },
    sql: "SELECT SUM(t.hours) FROM timesheets t JOIN projects p ON p.project_id = t.project_id WHERE p.project_code = '{project}' AND EXTRACT(YEAR FROM t.work_date) = {year}",
    evidence: "",
    phrasings: [
      "How many hours were logged on {project} in {year}?",
      "total hours {project} {year}",
      "time booked to project {project} during {year}",
      "hrs on {project} in {year}",
    ],
  },
  {
    id: "project_count_by_department",
    difficulty: "moderate",
    tables: ["departments", "projects"],
    slots: { status: "projectStatus" },
    sql: "SELECT d.name, COUNT(*) AS projects FROM projects p JOIN departments d ON d.department_id = p.department_id WHERE p.status = '{status}' GROUP BY d.name",
    evidence: "",
    phrasings: [
      "How many {status} projects does each department run?",
      "{status} projects per department",
      "count of {status} projects by dept",
    ],
  },
  {
    id: "customers_with_many_projects",
    difficulty: "moderate",
    tables: ["customers", "projects"],
    slots: { k: "minProjects" },
    sql: "SELECT c.name, COUNT(*) AS projects FROM projects p JOIN customers c ON c.customer_id = p.customer_id GROUP BY c.name HAVING COUNT(*) > {k}",
    evidence: "",
    phrasings: [
      "Which customers have more than {k} projects?",
      "customers with over {k} projects",
      "clients that have more than {k} projects with us, with the count",
      "custs >{k} projects",
    ],
  },
  {
    id: "departments_avg_salary_over",
    difficulty: "moderate",
    tables: ["departments", "employees"],
    slots: { threshold: "salaryThreshold" },
    sql: "SELECT d.name, ROUND(AVG(e.salary), 2) AS avg_salary FROM employees e JOIN departments d ON d.department_id = e.department_id WHERE e.status = 'active' GROUP BY d.name HAVING AVG(e.salary) > {threshold}",
    evidence: "only active employees (status = 'active')",
    phrasings: [
      "Which departments pay their active staff an average salary above {threshold}?",
      "departments with avg salary > {threshold}",
      "depts where average salary of active employees is over {threshold}",
    ],
    unseen: true,
  },
  {
    id: "team_of_project",
    difficulty: "moderate",
    tables: ["employees", "project_assignments", "projects"],
    slots: { project: "project" },
    sql: "SELECT e.first_name, e.last_name, pa.role FROM project_assignments pa JOIN employees e ON e.employee_id = pa.employee_id JOIN projects p ON p.project_id = pa.project_id WHERE p.project_code = '{project}'",
    evidence: "",
    phrasings: [
      "Who is assigned to {project} and in what role?",
      "team on {project} with roles",
      "list the people staffed on project {project}",
      "{project} team + roles",
    ],
  },
  {
    id: "manager_of_project",
    difficulty: "moderate",
    tables: ["employees", "projects"],
    slots: { project: "project" },
    sql: "SELECT e.first_name, e.last_name FROM projects p JOIN employees e ON e.employee_id = p.manager_id WHERE p.project_code = '{project}'",
    evidence: "",
    phrasings: [
      "Who manages project {project}?",
      "project manager of {project}",
      "who is the PM for {project}",
      "{project} manager name",
    ],
  },
  {
    id: "top_vendors_by_spend_in_year",
    difficulty: "moderate",
    tables: ["vendor_bills", "vendors"],
    slots: { year: "year", n: "topN" },
    sql: "SELECT v.name, SUM(vb.amount) AS spend FROM vendor_bills vb JOIN vendors v ON v.vendor_id = vb.vendor_id WHERE vb.status <> 'void' AND EXTRACT(YEAR FROM vb.bill_date) = {year} GROUP BY v.name ORDER BY spend DESC LIMIT {n}",
    evidence: "spend = vendor bill amounts with status <> 'void'",
    phrasings: [
      "Which {n} vendors did we spend the most with in {year}?",
      "top {n} vendors by spend {year}",
      "biggest {n} suppliers by billed amount in {year}",
      "top{n} vendor spend {year}",
    ],
  },
  {
    id: "bills_of_vendor_in_year",
    difficulty: "moderate",
    tables: ["vendor_bills", "vendors"],
    slots: { vendor: "vendor", year: "year" },
    sql: "SELECT vb.bill_number, vb.amount, vb.status FROM vendor_bills vb JOIN vendors v ON v.vendor_id = vb.vendor_id WHERE v.name = '{vendor}' AND EXTRACT(YEAR FROM vb.bill_date) = {year}",
    evidence: "",
    phrasings: [
      "List the bills we received from {vendor} in {year} with their status",
      "{vendor} bills {year}",
      "what did {vendor} bill us in {year}?",
    ],
    unseen: true,
  },
  {
    id: "trial_balance_by_account_type",
    difficulty: "moderate",
    tables: ["gl_accounts", "journal_entries", "journal_lines"],
    slots: { year: "year" },
    sql: "SELECT a.account_type, SUM(jl.debit) AS debit, SUM(jl.credit) AS credit FROM journal_lines jl JOIN journal_entries je ON je.entry_id = jl.entry_id JOIN gl_accounts a ON a.account_id = jl.account_id WHERE je.posted = true AND EXTRACT(YEAR FROM je.entry_date) = {year} GROUP BY a.account_type",
    evidence: POSTED,
    phrasings: [
      "Show the trial balance by account type for {year}",
      "trial balance {year} by account type",
      "total debits and credits per account type in {year}",
      "TB by acct type {year}",
    ],
  },
  {
    id: "account_balance",
    difficulty: "moderate",
    tables: ["gl_accounts", "journal_entries", "journal_lines"],
    slots: { account: "account" },
    sql: "SELECT SUM(jl.debit - jl.credit) AS balance FROM journal_lines jl JOIN journal_entries je ON je.entry_id = jl.entry_id JOIN gl_accounts a ON a.account_id = jl.account_id WHERE je.posted = true AND a.name = '{account}'",
    evidence: `${POSTED}; balance = debit - credit`,
    phrasings: [
      "What is the balance of the {account} account?",
      "{account} balance",
      "current balance on {account}",
      "bal of acct {account}",
    ],
  },
  {
    id: "expenses_by_account_in_year",
    difficulty: "moderate",
    tables: ["gl_accounts", "journal_entries", "journal_lines"],
    slots: { year: "year" },
    sql: "SELECT a.name, SUM(jl.debit - jl.credit) AS amount FROM journal_lines jl JOIN journal_entries je ON je.entry_id = jl.entry_id JOIN gl_accounts a ON a.account_id = jl.account_id WHERE je.posted = true AND a.account_type = 'expense' AND EXTRACT(YEAR FROM je.entry_date) = {year} GROUP BY a.name ORDER BY amount DESC",
    evidence: POSTED,
    phrasings: [
      "Break down {year} expenses by account, largest first",
      "expenses by account {year}",
      "what did we spend per expense account in {year}?",
      "opex by acct {year} desc",
    ],
  },
  {
    id: "expense_account_total_in_year",
    difficulty: "moderate",
    tables: ["gl_accounts", "journal_entries", "journal_lines"],
    slots: { account: "expenseAccount", year: "year" },
    sql: "SELECT SUM(jl.debit - jl.credit) FROM journal_lines jl JOIN journal_entries je ON je.entry_id = jl.entry_id JOIN gl_accounts a ON a.account_id = jl.account_id WHERE je.posted = true AND a.name = '{account}' AND EXTRACT(YEAR FROM je.entry_date) = {year}",
    evidence: POSTED,
    phrasings: [
      "How much did we spend on {account} in {year}?",
      "{account} expense {year}",
      "total {account} costs for {year}",
      "{account} spend in {year}?",
    ],
  },
  {
    id: "actual_spend_of_project",
    difficulty: "moderate",
    tables: ["gl_accounts", "journal_entries", "journal_lines", "projects"],
    slots: { project: "project" },
    sql: "SELECT SUM(jl.debit - jl.credit) AS actual FROM journal_lines jl JOIN journal_entries je ON je.entry_id = jl.entry_id JOIN gl_accounts a ON a.account_id = jl.account_id JOIN projects p ON p.project_id = jl.project_id WHERE je.posted = true AND a.account_type = 'expense' AND p.project_code = '{project}'",
    evidence: ACTUALS,
    phrasings: [
      "What is the actual spend on project {project} to date?",
      "actuals for {project}",
      "how much has {project} cost us so far",
      "{project} actual spend",
    ],
  },
  {
    id: "budget_of_project_in_year",
    difficulty: "moderate",
    tables: ["budgets", "projects"],
    slots: { project: "project", year: "year" },
    sql: "SELECT SUM(b.amount) FROM budgets b JOIN projects p ON p.project_id = b.project_id WHERE p.project_code = '{project}' AND b.fiscal_year = {year}",
    evidence: "",
    phrasings: [
      "What is the {year} budget of project {project}?",
      "{project} budget FY{year}",
      "how much was budgeted for {project} in {year}",
      "budget {project} {year}",
    ],
  },
  {
    id: "entries_by_source_in_period",
    difficulty: "moderate",
    tables: ["fiscal_periods", "journal_entries"],
    slots: { year: "year", month: "month" },
    sql: "SELECT je.source, COUNT(*) AS entries FROM journal_entries je JOIN fiscal_periods fp ON fp.period_id = je.period_id WHERE fp.fiscal_year = {year} AND fp.period_number = {month} GROUP BY je.source",
    evidence: "",
    phrasings: [
      "How many journal entries per source were booked in period {month} of {year}?",
      "journal entries by source {month.name} {year}",
      "count JEs per source for {month.short} {year}",
    ],
  },
  {
    id: "unposted_entries_in_open_periods",
    difficulty: "moderate",
    tables: ["fiscal_periods", "journal_entries"],
    slots: { source: "entrySource" },
    sql: "SELECT je.entry_id, je.entry_date, je.description FROM journal_entries je JOIN fiscal_periods fp ON fp.period_id = je.period_id WHERE je.posted = false AND fp.is_closed = false AND je.source = '{source}'",
    evidence: "",
    phrasings: [
      "Which {source} journal entries in open periods are not posted yet?",
      "unposted {source} entries in open periods",
      "list {source} JEs still unposted in periods that are open",
    ],
  },
  {
    id: "payroll_by_month_in_year",
    difficulty: "moderate",
    tables: ["journal_entries", "journal_lines"],
    slots: { year: "year" },
    sql: "SELECT EXTRACT(MONTH FROM je.entry_date) AS month, SUM(jl.debit) AS payroll FROM journal_lines jl JOIN journal_entries je ON je.entry_id = jl.entry_id WHERE je.posted = true AND je.source = 'payroll' AND EXTRACT(YEAR FROM je.entry_date) = {year} GROUP BY month ORDER BY month",
    evidence: `${POSTED}; payroll entries have source = 'payroll'`,
    phrasings: [
      "What was the payroll cost per month in {year}?",
      "monthly payroll {year}",
      "payroll by month for {year}",
      "payrol cost each month {year}",
    ],
  },
  {
    id: "invoice_status_mix_of_customer",
    difficulty: "moderate",
    tables: ["customers", "invoices"],
    slots: { customer: "customer" },
    sql: "SELECT i.status, COUNT(*) AS invoices FROM invoices i JOIN customers c ON c.customer_id = i.customer_id WHERE c.name = '{customer}' GROUP BY i.status",
    evidence: "",
    phrasings: [
      "How many invoices of {customer} are in each status?",
      "{customer} invoices by status",
      "invoice count per status for {customer}",
    ],
  },
  {
    id: "avg_days_to_pay_by_customer",
    difficulty: "moderate",
    tables: ["customers", "invoices", "payments"],
    slots: { year: "year", n: "topN" },
    sql: "SELECT c.name, ROUND(AVG(pm.payment_date - i.issue_date), 1) AS avg_days FROM payments pm JOIN invoices i ON i.invoice_id = pm.invoice_id JOIN customers c ON c.customer_id = i.customer_id WHERE EXTRACT(YEAR FROM pm.payment_date) = {year} GROUP BY c.name ORDER BY avg_days DESC LIMIT {n}",
    evidence: "days to pay = payment_date - issue_date",
    phrasings: [
      "Which {n} customers took longest on average to pay in {year}?",
      "slowest {n} payers {year} by avg days to pay",
      "top {n} customers by average days to pay, {year}",
      "{n} slowest paying custs {year}",
    ],
  },
  {
    id: "invoices_paid_late_of_customer",
    difficulty: "moderate",
    tables: ["customers", "invoices", "payments"],
    slots: { customer: "customer" },
    sql: "SELECT DISTINCT i.invoice_number FROM invoices i JOIN payments pm ON pm.invoice_id = i.invoice_id JOIN customers c ON c.customer_id = i.customer_id WHERE c.name = '{customer}' AND pm.payment_date > i.due_date",
    evidence: "an invoice is paid late when a payment came after its due_date",
    phrasings: [
      "Which invoices did {customer} pay late?",
      "{customer} late-paid invoices",
      "invoices from {customer} paid after the due date",
    ],
    unseen: true,
  },
  {
    id: "reports_of_manager",
    difficulty: "moderate",
    tables: ["employees"],
    slots: { manager: "manager" },
    sql: "SELECT e.first_name, e.last_name FROM employees e JOIN employees m ON m.employee_id = e.manager_id WHERE m.first_name = '{manager.first}' AND m.last_name = '{manager.last}'",
    evidence: "",
    phrasings: [
      "Who reports directly to {manager.first} {manager.last}?",
      "direct reports of {manager.first} {manager.last}",
      "list {manager.first} {manager.last}'s team",
      "who reports to {manager.first} {manager.last}",
    ],
    unseen: true,
  },
  {
    id: "customers_without_invoices_in_year",
    difficulty: "moderate",
    tables: ["customers", "invoices"],
    slots: { year: "year" },
    sql: "SELECT c.name FROM customers c WHERE NOT EXISTS (SELECT 1 FROM invoices i WHERE i.customer_id = c.customer_id AND EXTRACT(YEAR FROM i.issue_date) = {year})",
    evidence: "",
    phrasings: [
      "Which customers were not invoiced at all in {year}?",
      "customers with no invoices in {year}",
      "clients we didn't bill in {year}",
      "custs w/o invoices {year}",
    ],
  },
  {
    id: "unassigned_employees_in_department",
    difficulty: "moderate",
    tables: ["departments", "employees", "project_assignments"],
    slots: { department: "department" },
    sql: "SELECT e.first_name, e.last_name FROM employees e JOIN departments d ON d.department_id = e.department_id WHERE d.name = '{department}' AND e.status = 'active' AND e.employee_id NOT IN (SELECT pa.employee_id FROM project_assignments pa)",
    evidence: "only active employees (status = 'active')",
    phrasings: [
      "Which active employees in {department} are not assigned to any project?",
      "{department} staff without project assignments",
      "who in {department} is on no project",
      "unassigned ppl in {department}",
    ],
  },
  {
    id: "projects_budget_above_average",
    difficulty: "moderate",
    tables: ["projects"],
    slots: { status: "projectStatus" },
    sql: "SELECT project_code, name, budget FROM projects WHERE status = '{status}' AND budget > (SELECT AVG(budget) FROM projects)",
    evidence: "",
    phrasings: [
      "Which {status} projects have a budget above the average project budget?",
      "{status} projects with above-average budget",
      "{status} projcts budget > avg budget",
    ],
  },
  {
    id: "customers_and_vendors_in_country",
    difficulty: "moderate",
    tables: ["customers", "vendors"],
    slots: { country: "country" },
    sql: "SELECT name FROM customers WHERE country = '{country}' UNION SELECT name FROM vendors WHERE country = '{country}'",
    evidence: "",
    phrasings: [
      "List every customer and vendor based in {country}",
      "customers and vendors in {country}",
      "all business partners (customers or suppliers) located in {country}",
    ],
  },
  {
    id: "hours_by_month_of_employee",
    difficulty: "moderate",
    tables: ["employees", "timesheets"],
    slots: { employee: "employee", year: "year" },
    sql: "SELECT EXTRACT(MONTH FROM t.work_date) AS month, SUM(t.hours) AS hours FROM timesheets t JOIN employees e ON e.employee_id = t.employee_id WHERE e.first_name = '{employee.first}' AND e.last_name = '{employee.last}' AND EXTRACT(YEAR FROM t.work_date) = {year} GROUP BY month ORDER BY month",
    evidence: "",
    phrasings: [
      "How many hours did {employee.first} {employee.last} log per month in {year}?",
      "{employee.first} {employee.last} hours by month {year}",
      "monthly hrs of {employee.first} {employee.last} in {year}",
    ],
  },

  {
    id: "projects_ending_within_days",
    difficulty: "moderate",
    tables: ["projects"],
    slots: { status: "projectStatus", days: "days" },
    sql: "SELECT project_code, name, end_date FROM projects WHERE status = '{status}' AND end_date BETWEEN DATE '2025-09-30' AND DATE '2025-09-30' + {days}",
    evidence: "the report date is 2025-09-30",
    phrasings: [
      "Which {status} projects end within the next {days} days?",
      "{status} projects ending in {days} days",
      "list {status} projects whose end date is at most {days} days after the report date",
      "{status} projs finishing next {days}d",
    ],
  },
  {
    id: "long_tenure_employees_in_department",
    difficulty: "moderate",
    tables: ["departments", "employees"],
    slots: { department: "department", years: "tenureYears" },
    sql: "SELECT e.first_name, e.last_name, e.hire_date FROM employees e JOIN departments d ON d.department_id = e.department_id WHERE d.name = '{department}' AND e.status = 'active' AND e.hire_date <= DATE '2025-09-30' - INTERVAL '{years} years'",
    evidence: "tenure is counted to the report date 2025-09-30; only active employees",
    phrasings: [
      "Which active {department} employees have been with us for at least {years} years?",
      "{department} staff with {years}+ years tenure",
      "who in {department} was hired {years} or more years ago and is still active",
      "{department} ppl tenure >= {years} yrs",
    ],
  },

  // ─── challenging: CTEs, window functions, CASE buckets, date arithmetic ────────────────────────
  {
    id: "budget_vs_actual_by_project",
    difficulty: "challenging",
    tables: ["budgets", "gl_accounts", "journal_entries", "journal_lines", "projects"],
    slots: { status: "projectStatus", year: "year" },
    sql: "WITH actuals AS (SELECT jl.project_id, SUM(jl.debit - jl.credit) AS actual FROM journal_lines jl JOIN journal_entries je ON je.entry_id = jl.entry_id JOIN gl_accounts a ON a.account_id = jl.account_id WHERE je.posted = true AND a.account_type = 'expense' AND EXTRACT(YEAR FROM je.entry_date) = {year} GROUP BY jl.project_id), planned AS (SELECT project_id, SUM(amount) AS budget FROM budgets WHERE fiscal_year = {year} GROUP BY project_id) SELECT p.project_code, pl.budget, ac.actual FROM projects p JOIN planned pl ON pl.project_id = p.project_id LEFT JOIN actuals ac ON ac.project_id = p.project_id WHERE p.status = '{status}'",
    evidence: `${ACTUALS}; budget = budgets.amount of the fiscal year`,
    phrasings: [
      "Compare budget and actual spend for each {status} project in {year}",
      "budget vs actual {year}, {status} projects",
      "for {status} projects, what was budgeted vs actually spent in {year}?",
      "bdgt vs actuals {year} {status} projs",
    ],
  },
  {
    id: "projects_spent_over_pct_of_budget",
    difficulty: "challenging",
    tables: ["gl_accounts", "journal_entries", "journal_lines", "projects"],
    slots: { pct: "spendPct" },
    sql: "SELECT p.project_code, p.budget, SUM(jl.debit - jl.credit) AS actual FROM projects p JOIN journal_lines jl ON jl.project_id = p.project_id JOIN journal_entries je ON je.entry_id = jl.entry_id JOIN gl_accounts a ON a.account_id = jl.account_id WHERE je.posted = true AND a.account_type = 'expense' GROUP BY p.project_id HAVING SUM(jl.debit - jl.credit) > p.budget * {pct} / 100",
    evidence: `${ACTUALS}; compare with projects.budget`,
    phrasings: [
      "Which projects have already spent more than {pct}% of their budget?",
      "projects with actuals over {pct}% of budget",
      "projects where actual spend exceeds {pct} percent of the approved budget",
      "projs burnt >{pct}% of budget",
    ],
  },
  {
    id: "receivables_ageing_buckets",
    difficulty: "challenging",
    tables: ["invoices"],
    slots: {},
    sql: "SELECT CASE WHEN DATE '2025-09-30' - due_date <= 30 THEN '0-30' WHEN DATE '2025-09-30' - due_date <= 60 THEN '31-60' WHEN DATE '2025-09-30' - due_date <= 90 THEN '61-90' ELSE '90+' END AS bucket, COUNT(*) AS invoices, SUM(amount) AS amount FROM invoices WHERE due_date < DATE '2025-09-30' AND status NOT IN ('paid', 'void') GROUP BY bucket ORDER BY bucket",
    evidence: `${OVERDUE}; days overdue = 2025-09-30 - due_date, bucketed 0-30, 31-60, 61-90, 90+`,
    phrasings: [
      "Show the overdue receivables ageing in buckets 0-30, 31-60, 61-90 and 90+ days",
      "AR ageing buckets",
      "how old are our overdue invoices? count and amount per ageing bucket",
      "receivables aging 30/60/90",
    ],
  },
  {
    id: "receivables_ageing_of_country",
    difficulty: "challenging",
    tables: ["customers", "invoices"],
    slots: { country: "country" },
    sql: "SELECT CASE WHEN DATE '2025-09-30' - i.due_date <= 30 THEN '0-30' WHEN DATE '2025-09-30' - i.due_date <= 60 THEN '31-60' WHEN DATE '2025-09-30' - i.due_date <= 90 THEN '61-90' ELSE '90+' END AS bucket, SUM(i.amount) AS amount FROM invoices i JOIN customers c ON c.customer_id = i.customer_id WHERE c.country = '{country}' AND i.due_date < DATE '2025-09-30' AND i.status NOT IN ('paid', 'void') GROUP BY bucket ORDER BY bucket",
    evidence: `${OVERDUE}; days overdue = 2025-09-30 - due_date, bucketed 0-30, 31-60, 61-90, 90+`,
    phrasings: [
      "Age the overdue receivables of customers in {country} into 0-30, 31-60, 61-90, 90+ day buckets",
      "AR ageing {country} customers",
      "overdue amount by ageing bucket for {country} clients",
    ],
  },
  {
    id: "revenue_month_over_month",
    difficulty: "challenging",
    tables: ["invoices"],
    slots: { year: "year" },
    sql: "WITH monthly AS (SELECT EXTRACT(MONTH FROM issue_date) AS month, SUM(amount) AS revenue FROM invoices WHERE status NOT IN ('draft', 'void') AND EXTRACT(YEAR FROM issue_date) = {year} GROUP BY month) SELECT month, revenue, revenue - LAG(revenue) OVER (ORDER BY month) AS change FROM monthly ORDER BY month",
    evidence: REVENUE,
    phrasings: [
      "How did revenue change month over month in {year}?",
      "MoM revenue change {year}",
      "monthly revenue in {year} with the change vs the previous month",
      "rev month-over-month {year}",
    ],
  },
  {
    id: "rank_billable_hours_in_department",
    difficulty: "challenging",
    tables: ["departments", "employees", "timesheets"],
    slots: { department: "department", year: "year" },
    sql: "SELECT e.first_name, e.last_name, SUM(t.hours) AS hours, RANK() OVER (ORDER BY SUM(t.hours) DESC) AS rank FROM timesheets t JOIN employees e ON e.employee_id = t.employee_id JOIN departments d ON d.department_id = e.department_id WHERE d.name = '{department}' AND t.billable = true AND EXTRACT(YEAR FROM t.work_date) = {year} GROUP BY e.employee_id",
    evidence: "",
    phrasings: [
      "Rank the {department} employees by billable hours in {year}",
      "{department} billable hours ranking {year}",
      "who in {department} logged the most billable hours in {year}? give the rank",
      "rank {department} ppl by billable hrs {year}",
    ],
  },
  {
    id: "utilisation_in_department",
    difficulty: "challenging",
    tables: ["departments", "employees", "timesheets"],
    slots: { department: "department", year: "year" },
    sql: "SELECT e.first_name, e.last_name, ROUND(100.0 * SUM(CASE WHEN t.billable THEN t.hours ELSE 0 END) / SUM(t.hours), 1) AS utilisation_pct FROM timesheets t JOIN employees e ON e.employee_id = t.employee_id JOIN departments d ON d.department_id = e.department_id WHERE d.name = '{department}' AND EXTRACT(YEAR FROM t.work_date) = {year} GROUP BY e.employee_id",
    evidence: UTILISATION,
    phrasings: [
      "What was the utilisation of each {department} employee in {year}?",
      "{department} utilisation per employee {year}",
      "billable share of hours per person in {department}, {year}",
      "utilization {department} {year}",
    ],
  },
  {
    id: "largest_project_per_department",
    difficulty: "challenging",
    tables: ["departments", "projects"],
    slots: { status: "projectStatus" },
    sql: "SELECT department, project_code, budget FROM (SELECT d.name AS department, p.project_code, p.budget, ROW_NUMBER() OVER (PARTITION BY d.name ORDER BY p.budget DESC) AS rn FROM projects p JOIN departments d ON d.department_id = p.department_id WHERE p.budget IS NOT NULL AND p.status = '{status}') ranked WHERE rn = 1",
    evidence: "",
    phrasings: [
      "What is the largest {status} project by budget in each department?",
      "biggest {status} project per department",
      "for every dept, the {status} project with the highest budget",
    ],
    unseen: true,
  },
  {
    id: "cumulative_payments_in_year",
    difficulty: "challenging",
    tables: ["payments"],
    slots: { year: "year" },
    sql: "SELECT month, received, SUM(received) OVER (ORDER BY month) AS cumulative FROM (SELECT EXTRACT(MONTH FROM payment_date) AS month, SUM(amount) AS received FROM payments WHERE EXTRACT(YEAR FROM payment_date) = {year} GROUP BY month) monthly ORDER BY month",
    evidence: "",
    phrasings: [
      "Show cash received per month in {year} with a running total",
      "cumulative payments by month {year}",
      "monthly collections and year-to-date total for {year}",
      "running total of payments {year}",
    ],
  },
  {
    id: "customer_share_of_revenue",
    difficulty: "challenging",
    tables: ["customers", "invoices"],
    slots: { year: "year", n: "topN" },
    sql: "SELECT c.name, SUM(i.amount) AS revenue, ROUND(100 * SUM(i.amount) / SUM(SUM(i.amount)) OVER (), 2) AS share_pct FROM invoices i JOIN customers c ON c.customer_id = i.customer_id WHERE i.status NOT IN ('draft', 'void') AND EXTRACT(YEAR FROM i.issue_date) = {year} GROUP BY c.name ORDER BY revenue DESC LIMIT {n}",
    evidence: REVENUE,
    phrasings: [
      "What share of {year} revenue did the top {n} customers each account for?",
      "top {n} customers' revenue share {year}",
      "top {n} clients by revenue in {year} with % of total",
      "rev share % top{n} custs {year}",
    ],
  },
  {
    id: "net_income_in_year",
    difficulty: "challenging",
    tables: ["gl_accounts", "journal_entries", "journal_lines"],
    slots: { year: "year" },
    sql: "SELECT SUM(CASE WHEN a.account_type = 'revenue' THEN jl.credit - jl.debit ELSE 0 END) - SUM(CASE WHEN a.account_type = 'expense' THEN jl.debit - jl.credit ELSE 0 END) AS net_income FROM journal_lines jl JOIN journal_entries je ON je.entry_id = jl.entry_id JOIN gl_accounts a ON a.account_id = jl.account_id WHERE je.posted = true AND EXTRACT(YEAR FROM je.entry_date) = {year}",
    evidence: `${POSTED}; net income = revenue (credit - debit) - expenses (debit - credit)`,
    phrasings: [
      "What was the net income for {year}?",
      "net income {year}",
      "profit for the year {year} from the ledger",
      "P&L net result {year}",
    ],
  },
  {
    id: "gl_revenue_by_quarter_of_company",
    difficulty: "challenging",
    tables: ["companies", "gl_accounts", "journal_entries", "journal_lines"],
    slots: { company: "company", year: "year" },
    sql: "SELECT EXTRACT(QUARTER FROM je.entry_date) AS quarter, SUM(jl.credit - jl.debit) AS revenue FROM journal_lines jl JOIN journal_entries je ON je.entry_id = jl.entry_id JOIN gl_accounts a ON a.account_id = jl.account_id JOIN companies co ON co.company_id = je.company_id WHERE je.posted = true AND a.account_type = 'revenue' AND co.name = '{company}' AND EXTRACT(YEAR FROM je.entry_date) = {year} GROUP BY quarter ORDER BY quarter",
    evidence: `${POSTED}; revenue accounts have account_type = 'revenue', amount = credit - debit`,
    phrasings: [
      "What revenue did {company} book per quarter in {year}?",
      "{company} quarterly revenue {year} from the GL",
      "ledger revenue by quarter, {company}, {year}",
      "{company} rev per qtr {year}",
    ],
  },
  {
    id: "expense_change_vs_prior_year",
    difficulty: "challenging",
    tables: ["gl_accounts", "journal_entries", "journal_lines"],
    slots: { year: "year" },
    sql: "SELECT a.name, SUM(CASE WHEN EXTRACT(YEAR FROM je.entry_date) = {year} THEN jl.debit - jl.credit ELSE 0 END) - SUM(CASE WHEN EXTRACT(YEAR FROM je.entry_date) = {year} - 1 THEN jl.debit - jl.credit ELSE 0 END) AS change FROM journal_lines jl JOIN journal_entries je ON je.entry_id = jl.entry_id JOIN gl_accounts a ON a.account_id = jl.account_id WHERE je.posted = true AND a.account_type = 'expense' GROUP BY a.name ORDER BY change DESC",
    evidence: `${POSTED}; expense = debit - credit`,
    phrasings: [
      "How did each expense account change in {year} compared with the year before?",
      "expense change by account {year} vs prior year",
      "year-over-year change per expense account for {year}",
    ],
    unseen: true,
  },
  {
    id: "expense_account_month_over_month",
    difficulty: "challenging",
    tables: ["gl_accounts", "journal_entries", "journal_lines"],
    slots: { account: "expenseAccount", year: "year" },
    sql: "WITH monthly AS (SELECT EXTRACT(MONTH FROM je.entry_date) AS month, SUM(jl.debit - jl.credit) AS amount FROM journal_lines jl JOIN journal_entries je ON je.entry_id = jl.entry_id JOIN gl_accounts a ON a.account_id = jl.account_id WHERE je.posted = true AND a.name = '{account}' AND EXTRACT(YEAR FROM je.entry_date) = {year} GROUP BY month) SELECT month, amount, amount - LAG(amount) OVER (ORDER BY month) AS change FROM monthly ORDER BY month",
    evidence: `${POSTED}; expense = debit - credit`,
    phrasings: [
      "How did {account} spending change month over month in {year}?",
      "{account} MoM change {year}",
      "monthly {account} expense in {year} and the change from the previous month",
      "{account} month-over-month {year}",
    ],
  },
  {
    id: "project_margin_of_customer",
    difficulty: "challenging",
    tables: ["customers", "gl_accounts", "invoices", "journal_entries", "journal_lines", "projects"],
    slots: { customer: "customer" },
    sql: "WITH billed AS (SELECT project_id, SUM(amount) AS revenue FROM invoices WHERE status NOT IN ('draft', 'void') GROUP BY project_id), costs AS (SELECT jl.project_id, SUM(jl.debit - jl.credit) AS cost FROM journal_lines jl JOIN journal_entries je ON je.entry_id = jl.entry_id JOIN gl_accounts a ON a.account_id = jl.account_id WHERE je.posted = true AND a.account_type = 'expense' GROUP BY jl.project_id) SELECT p.project_code, bi.revenue, cs.cost, bi.revenue - cs.cost AS margin FROM projects p JOIN customers c ON c.customer_id = p.customer_id JOIN billed bi ON bi.project_id = p.project_id JOIN costs cs ON cs.project_id = p.project_id WHERE c.name = '{customer}'",
    evidence: `${REVENUE}; ${ACTUALS}; margin = revenue - actual spend`,
    phrasings: [
      "What margin did we make on each project for {customer}?",
      "{customer} project margins",
      "revenue, cost and margin per project of {customer}",
      "margin by proj for {customer}",
    ],
  },
  {
    id: "employees_above_department_average_hours",
    difficulty: "challenging",
    tables: ["departments", "employees", "timesheets"],
    slots: { department: "department", year: "year" },
    sql: "WITH hours AS (SELECT e.employee_id, e.first_name, e.last_name, SUM(t.hours) AS hours FROM timesheets t JOIN employees e ON e.employee_id = t.employee_id JOIN departments d ON d.department_id = e.department_id WHERE d.name = '{department}' AND EXTRACT(YEAR FROM t.work_date) = {year} GROUP BY e.employee_id) SELECT first_name, last_name, hours FROM hours WHERE hours > (SELECT AVG(hours) FROM hours)",
    evidence: "",
    phrasings: [
      "Which {department} employees logged more hours than their department's average in {year}?",
      "{department} people above avg hours {year}",
      "who in {department} worked more than the average in {year}",
    ],
  },
];
