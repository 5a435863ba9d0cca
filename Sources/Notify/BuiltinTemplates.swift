/// The built-in Mustache templates, compiled into the binary so a single-file install
/// needs no resource directory. An admin overrides any of them by putting
/// `<templates_dir>/<locale>/<name>.mustache` in place (see README, "Alert templates").
/// Text templates (subject, text) are rendered without HTML escaping; HTML ones escape.
enum BuiltinTemplates {
    static let all: [String: [String: String]] = ["en": en, "zh-CN": zhCN]

    static let en: [String: String] = [
        "digest.subject": "[mailgauge] {{summary}}",
        "digest.text": """
            mailgauge alert digest: {{summary}}
            Run at {{generated_at}} on {{host}}.
            {{#sections}}

            {{heading}}
            {{#items}}
              - [{{state}}] {{who}}: {{what}}{{#forecast}}; full by {{forecast}}{{/forecast}}{{#failure}}; last error: {{failure}}{{/failure}}
            {{/items}}
            {{/sections}}

            Details: mailgauge report -c {{config}}
            """,
        "digest.html": """
            <html><body style="font-family: sans-serif">
            <h2>mailgauge alert digest: {{summary}}</h2>
            <p>Run at {{generated_at}} on {{host}}.</p>
            {{#sections}}
            <h3>{{heading}}</h3>
            <table cellpadding="4" style="border-collapse: collapse">
            <tr><th align="left">State</th><th align="left">Account</th><th align="left">Alerts</th><th align="left">Full by</th></tr>
            {{#items}}
            <tr><td>{{state}}</td><td>{{who}}</td><td>{{#fragments}}{{text}}<br>{{/fragments}}{{#failure}}<small>{{failure}}</small>{{/failure}}</td><td>{{forecast}}</td></tr>
            {{/items}}
            </table>
            {{/sections}}
            <p>Details: <code>mailgauge report -c {{config}}</code></p>
            </body></html>
            """,
        "owner.subject": "{{#full}}Your mailbox is full: new mail to you is being refused{{/full}}{{^full}}{{#critical}}Action needed: your mailbox is {{percent}} full{{/critical}}{{^critical}}{{#filling}}Your mailbox will be full around {{full_date}}{{/filling}}{{^filling}}Your mailbox is {{percent}} full{{/filling}}{{/critical}}{{/full}}",
        "owner.text": """
            Hello {{user}},

            {{headline}}
            {{#full_date}}
            {{^filling}}

            At its current growth it will be full around {{full_date}}.
            {{/filling}}
            {{/full_date}}
            {{#has_folders}}

            {{#message_limit}}These folders hold the most messages:{{/message_limit}}{{^message_limit}}These folders hold the most space:{{/message_limit}}
            {{#folders}}
              - {{name}}: {{size}} in {{messages}} messages. {{advice}}
            {{/folders}}
            {{/has_folders}}

            Deleting mail you no longer need, then emptying Trash, frees space at once.
            If you need more space, contact your IT department.

            -- 
            This notice was sent automatically by mailgauge for {{account}}.
            """,
        "owner.html": """
            <html><body style="font-family: sans-serif">
            <p>Hello {{user}},</p>
            <p>{{#critical}}<b>{{headline}}</b>{{/critical}}{{^critical}}{{headline}}{{/critical}}</p>
            {{#has_folders}}
            <p>{{#message_limit}}These folders hold the most messages:{{/message_limit}}{{^message_limit}}These folders hold the most space:{{/message_limit}}</p>
            <table cellpadding="4" style="border-collapse: collapse">
            <tr><th align="left">Folder</th><th align="right">Size</th><th align="right">Messages</th><th align="left">What to do</th></tr>
            {{#folders}}
            <tr><td>{{name}}</td><td align="right">{{size}}</td><td align="right">{{messages}}</td><td>{{advice}}</td></tr>
            {{/folders}}
            </table>
            {{/has_folders}}
            <p>Deleting mail you no longer need, then emptying Trash, frees space at once. If you need more space, contact your IT department.</p>
            <p style="color: #666"><small>This notice was sent automatically by mailgauge for {{account}}.</small></p>
            </body></html>
            """,
    ]

    static let zhCN: [String: String] = [
        "digest.subject": "[mailgauge] {{summary}}",
        "digest.text": """
            mailgauge 告警汇总：{{summary}}
            运行时间 {{generated_at}}，主机 {{host}}。
            {{#sections}}

            {{heading}}
            {{#items}}
              - [{{state}}] {{who}}：{{what}}{{#forecast}}；预计 {{forecast}} 占满{{/forecast}}{{#failure}}；最近错误：{{failure}}{{/failure}}
            {{/items}}
            {{/sections}}

            详情：mailgauge report -c {{config}}
            """,
        "digest.html": """
            <html><body style="font-family: sans-serif">
            <h2>mailgauge 告警汇总：{{summary}}</h2>
            <p>运行时间 {{generated_at}}，主机 {{host}}。</p>
            {{#sections}}
            <h3>{{heading}}</h3>
            <table cellpadding="4" style="border-collapse: collapse">
            <tr><th align="left">状态</th><th align="left">账户</th><th align="left">告警</th><th align="left">预计占满</th></tr>
            {{#items}}
            <tr><td>{{state}}</td><td>{{who}}</td><td>{{#fragments}}{{text}}<br>{{/fragments}}{{#failure}}<small>{{failure}}</small>{{/failure}}</td><td>{{forecast}}</td></tr>
            {{/items}}
            </table>
            {{/sections}}
            <p>详情：<code>mailgauge report -c {{config}}</code></p>
            </body></html>
            """,
        "owner.subject": "{{#full}}您的邮箱已满：新邮件正被拒收{{/full}}{{^full}}{{#critical}}请尽快处理：您的邮箱已使用 {{percent}}{{/critical}}{{^critical}}{{#filling}}您的邮箱预计将于 {{full_date}} 前后占满{{/filling}}{{^filling}}您的邮箱已使用 {{percent}}{{/filling}}{{/critical}}{{/full}}",
        "owner.text": """
            {{user}}，您好：

            {{headline}}
            {{#full_date}}
            {{^filling}}

            按目前的增长速度，预计将于 {{full_date}} 前后占满。
            {{/filling}}
            {{/full_date}}
            {{#has_folders}}

            {{#message_limit}}邮件数最多的文件夹：{{/message_limit}}{{^message_limit}}占用空间最多的文件夹：{{/message_limit}}
            {{#folders}}
              - {{name}}：{{size}}，{{messages}} 封邮件。{{advice}}
            {{/folders}}
            {{/has_folders}}

            删除不再需要的邮件并清空“已删除”文件夹，可立即释放空间。
            如需更多空间，请联系您的 IT 部门。

            -- 
            本通知由 mailgauge 为 {{account}} 自动发送。
            """,
        "owner.html": """
            <html><body style="font-family: sans-serif">
            <p>{{user}}，您好：</p>
            <p>{{#critical}}<b>{{headline}}</b>{{/critical}}{{^critical}}{{headline}}{{/critical}}</p>
            {{#has_folders}}
            <p>{{#message_limit}}邮件数最多的文件夹：{{/message_limit}}{{^message_limit}}占用空间最多的文件夹：{{/message_limit}}</p>
            <table cellpadding="4" style="border-collapse: collapse">
            <tr><th align="left">文件夹</th><th align="right">大小</th><th align="right">邮件数</th><th align="left">建议</th></tr>
            {{#folders}}
            <tr><td>{{name}}</td><td align="right">{{size}}</td><td align="right">{{messages}}</td><td>{{advice}}</td></tr>
            {{/folders}}
            </table>
            {{/has_folders}}
            <p>删除不再需要的邮件并清空“已删除”文件夹，可立即释放空间。如需更多空间，请联系您的 IT 部门。</p>
            <p style="color: #666"><small>本通知由 mailgauge 为 {{account}} 自动发送。</small></p>
            </body></html>
            """,
    ]
}
