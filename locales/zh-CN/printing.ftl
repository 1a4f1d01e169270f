## 在本院的网络标签打印机上打印标签（src/web/printing.rs）
print-heading-vial = 打印此冻存管的标签
print-heading-lot-sheet = 打印此批次所有冻存管的标签
print-heading-lot = 打印此批次的冻存盒标签
print-heading-dose = 打印此剂量输注袋的标签
print-heading-wristband = 打印患者腕带
print-heading-donation = 打印此捐献的 DIN 标签
print-printer = 打印机
print-copies = 每张标签的份数
print-reason = 原因（以前打印过标签时必填）
print-button = 打印
print-sent-recorded = 已将 { $labels } 张标签发送到 { $printer }，并已记录为已发放。
print-unreachable = 打印机 { $printer }（{ $address }）没有响应：请检查是否已开机并已连接网络。未作任何记录。
print-unknown-printer = 没有名为“{ $printer }”的打印机，请从列表中选择。未打印任何标签。
print-reprint-needs-reason = 此前已为其打印过标签：重新打印请填写原因。未打印任何标签。
print-copies-range = 每张标签一次可打印 1 至 { $max } 份。未打印任何标签。
print-not-for-role = 您的角色不能打印此标签。
print-unreadable-title = 无法读取打印请求
print-unreadable = 请求中没有说明要打印哪张标签。请返回冻存管、批次、剂量、患者或捐献的页面，使用其中的“打印”按钮。
# how many of a record's label were issued, beside its print form
print-issued-lot = 已发放箱标签：{ $labels } 张（最近一次 { $when }，{ $user }）
print-issued-dose = 已发放输注袋标签：{ $labels } 张（最近一次 { $when }，{ $user }）
print-issued-wristband = 已发放腕带：{ $labels } 条（最近一次 { $when }，{ $user }）
print-issued-none-lot = 尚未发放箱标签。
print-issued-none-dose = 尚未发放输注袋标签。
print-issued-none-wristband = 尚未发放腕带。
# the ledger's words for each issue (the record's history)
action-lot-box-label-issued = 已发放箱标签
action-dose-label-issued = 已发放输注袋标签
action-patient-wristband-issued = 已发放腕带
# a label's files to download beside it: one page the label's size as PDF
label-files = 标签
label-pdf = 标签（PDF）
label-pdf-box = 冻存盒标签（PDF）
label-pdf-bag = 输注袋标签（PDF）
label-pdf-wristband = 腕带标签（PDF）
print-heading-storage-box = 打印此冻存盒的标签
print-issued-storage-box = 已发放冻存盒标签：{ $labels } 张（最近一次 { $when }，{ $user }）
print-issued-none-storage-box = 尚未为此冻存盒发放标签。
